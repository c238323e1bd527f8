using System.Runtime.CompilerServices;

namespace NeuralOde.Generators.Tests.Infrastructure;

/// <summary>Finds the repository's files from the test sources, so that the tests read the real declarations.</summary>
internal static class RepoPaths
{
    /// <summary>Gets the repository root: the nearest folder above this file (or the test binaries) holding NeuralOde.sln.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>Gets the folder of the built-in tableau declarations, src/Runtime/Tableaux.</summary>
    public static string TableauxDirectory => Path.Combine(Root, "src", "Runtime", "Tableaux");

    /// <summary>Gets the names (without extension) of the built-in tableau declaration files, sorted ordinally.</summary>
    public static IReadOnlyList<string> BuiltInTableauNames =>
        Directory.Exists(TableauxDirectory)
            ? [.. Directory.EnumerateFiles(TableauxDirectory, "*.cs")
                .Select(static path => Path.GetFileNameWithoutExtension(path))
                .Order(StringComparer.Ordinal)]
            : [];

    /// <summary>Reads one built-in tableau declaration.</summary>
    /// <param name="name">The file name without extension, for example <c>Fehlberg45</c>.</param>
    /// <returns>The file's path relative to the repository root, with '/' separators, and its text.</returns>
    public static SourceFile ReadBuiltInTableau(string name)
    {
        var path = Path.Combine(TableauxDirectory, name + ".cs");
        return new SourceFile($"src/Runtime/Tableaux/{name}.cs", File.ReadAllText(path));
    }

    /// <summary>
    /// Reads one built-in tableau declaration moved to the namespace <c>NeuralOde.Tableaux.Copies</c>: the test
    /// compilations reference the NeuralOde assembly, which already holds the built-in types, and a second
    /// <c>NeuralOde.Tableaux.Fehlberg45</c> would conflict with it (CS0436). The attribute still binds through the
    /// enclosing <c>NeuralOde</c> namespace, as in the original.
    /// </summary>
    /// <param name="name">The file name without extension.</param>
    /// <returns>The file, renamespaced.</returns>
    public static SourceFile ReadBuiltInTableauCopy(string name)
    {
        var file = ReadBuiltInTableau(name);
        const string original = "namespace NeuralOde.Tableaux;";
        if (!file.Text.Contains(original, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"{file.Path} does not declare '{original}'.");
        }

        return file with { Text = file.Text.Replace(original, "namespace NeuralOde.Tableaux.Copies;", StringComparison.Ordinal) };
    }

    private static string FindRoot([CallerFilePath] string thisFile = "")
    {
        foreach (var start in new[] { Path.GetDirectoryName(thisFile), AppContext.BaseDirectory })
        {
            for (var dir = start is null ? null : new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "NeuralOde.sln")))
                {
                    return dir.FullName;
                }
            }
        }

        throw new InvalidOperationException($"NeuralOde.sln not found above '{thisFile}' or '{AppContext.BaseDirectory}'.");
    }
}
