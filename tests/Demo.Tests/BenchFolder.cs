using NeuralOde.Demo.Bench;

namespace NeuralOde.Demo.Tests;

/// <summary>Finds the shared benchmark folder for tests and makes scratch copies of problems.</summary>
internal static class BenchFolder
{
    private static readonly Lazy<string> Located = new(Locate);

    /// <summary>Gets the benchmark folder: <c>shared/bench</c> found walking up from the test's directory (which also
    /// finds the sibling <c>../shared/bench</c> of the repository root). The CI machine has it, so its absence fails.</summary>
    public static string Path => Located.Value;

    /// <summary>Copies one problem folder to a new temporary folder (writable, unlike shared/).</summary>
    /// <param name="problem">The problem's name.</param>
    /// <returns>The copy's folder; delete it when done.</returns>
    public static string CopyProblem(string problem)
    {
        var target = Directory.CreateTempSubdirectory("neuralode-bench-").FullName;
        foreach (var file in Directory.GetFiles(System.IO.Path.Combine(Path, problem)))
        {
            var copy = System.IO.Path.Combine(target, System.IO.Path.GetFileName(file));
            File.Copy(file, copy);
            File.SetAttributes(copy, FileAttributes.Normal);
        }

        return target;
    }

    private static string Locate()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            if (BenchData.FindUpwards(start) is { } found)
            {
                return found;
            }
        }

        throw new InvalidOperationException(
            $"The benchmark folder shared/bench was not found above {AppContext.BaseDirectory}: the tests need the repository's sibling ../shared/bench.");
    }
}
