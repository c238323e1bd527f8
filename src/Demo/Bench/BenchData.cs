using System.Text.Json;

namespace NeuralOde.Demo.Bench;

/// <summary>Finds the benchmark folder (the repository's <c>testdata/bench</c>, or <c>shared/bench</c>) and reads its manifest.</summary>
internal static class BenchData
{
    /// <summary>The environment variable that names the benchmark folder.</summary>
    public const string EnvironmentVariable = "NEURALODE_BENCH";

    /// <summary>The variable PROBLEMS.md names for the same folder; read when <see cref="EnvironmentVariable"/> is unset.</summary>
    public const string ContractEnvironmentVariable = "BENCH_DATA";

    /// <summary>The folders that hold a <c>bench</c> folder, in the order they are tried at each level: the
    /// repository's committed copy, then the project's shared folder beside it.</summary>
    private static readonly string[] FolderNames = ["testdata", "shared"];

    /// <summary>The manifest's file name.</summary>
    public const string ManifestFileName = "manifest.json";

    /// <summary>
    /// Finds the benchmark folder: <paramref name="explicitDirectory"/> when given, else <c>$NEURALODE_BENCH</c>
    /// (or <c>$BENCH_DATA</c>), else the first <c>testdata/bench</c> or <c>shared/bench</c> found walking up from the
    /// current directory and then from the application's base directory (which finds the repository's own
    /// <c>testdata/bench</c> from anywhere inside the repository).
    /// </summary>
    /// <param name="explicitDirectory">The folder given on the command line, or null.</param>
    /// <returns>The folder's full path.</returns>
    /// <exception cref="BenchDataException">The folder was given but has no manifest, or none was found.</exception>
    public static string Locate(string? explicitDirectory = null)
    {
        if (!string.IsNullOrWhiteSpace(explicitDirectory))
        {
            return Checked(explicitDirectory, "--data");
        }

        foreach (var variable in new[] { EnvironmentVariable, ContractEnvironmentVariable })
        {
            var value = Environment.GetEnvironmentVariable(variable);
            if (!string.IsNullOrWhiteSpace(value))
            {
                return Checked(value, "$" + variable);
            }
        }

        var starts = new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory };
        foreach (var start in starts)
        {
            if (FindUpwards(start) is { } found)
            {
                return found;
            }
        }

        throw new BenchDataException(
            $"No benchmark folder found: give --data DIR or set ${EnvironmentVariable}; none of the folders above " +
            $"{starts[0]} or {starts[1]} has testdata/bench/{ManifestFileName} or shared/bench/{ManifestFileName}.");
    }

    /// <summary>Walks up from <paramref name="start"/> and returns the first <c>testdata/bench</c> or <c>shared/bench</c>
    /// with a manifest (at each level, <c>testdata/bench</c> first).</summary>
    /// <param name="start">The folder to start from.</param>
    /// <returns>The folder's full path, or null.</returns>
    public static string? FindUpwards(string start)
    {
        for (var dir = new DirectoryInfo(Path.GetFullPath(start)); dir is not null; dir = dir.Parent)
        {
            foreach (var parent in FolderNames)
            {
                var candidate = Path.Combine(dir.FullName, parent, "bench");
                if (File.Exists(Path.Combine(candidate, ManifestFileName)))
                {
                    return candidate;
                }
            }
        }

        return null;
    }

    /// <summary>Reads the manifest's problem names.</summary>
    /// <param name="directory">The benchmark folder.</param>
    /// <returns>The problem names, in the manifest's order.</returns>
    /// <exception cref="BenchDataException">The manifest is missing or malformed.</exception>
    public static IReadOnlyList<string> ReadManifest(string directory)
    {
        var path = Path.Combine(directory, ManifestFileName);
        if (!File.Exists(path))
        {
            throw new BenchDataException($"Benchmark manifest not found: {path}.");
        }

        try
        {
            var manifest = JsonSerializer.Deserialize(File.ReadAllText(path), BenchJsonContext.Default.BenchManifest);
            if (manifest?.Problems is not { Count: > 0 } problems)
            {
                throw new BenchDataException($"{path} lists no problems.");
            }

            return problems;
        }
        catch (JsonException error)
        {
            throw new BenchDataException($"{path} is not a valid manifest: {error.Message}", error);
        }
    }

    /// <summary>Loads one problem of the benchmark folder by name.</summary>
    /// <param name="directory">The benchmark folder.</param>
    /// <param name="name">The problem's name.</param>
    /// <returns>The loaded problem; the caller disposes it.</returns>
    /// <exception cref="BenchDataException">The problem is not in the folder, or its files are bad.</exception>
    public static BenchProblem LoadProblem(string directory, string name)
    {
        if (name.IndexOfAny(['/', '\\']) >= 0 || name.Contains("..", StringComparison.Ordinal))
        {
            throw new BenchDataException($"'{name}' is not a problem name.");
        }

        var folder = Path.Combine(directory, name);
        if (!Directory.Exists(folder))
        {
            throw new BenchDataException($"Unknown problem '{name}': {folder} does not exist. Known problems: {string.Join(", ", ReadManifest(directory))}.");
        }

        return BenchProblem.Load(folder);
    }

    private static string Checked(string directory, string source)
    {
        var full = Path.GetFullPath(directory);
        if (!File.Exists(Path.Combine(full, ManifestFileName)))
        {
            throw new BenchDataException($"The benchmark folder from {source}, {full}, has no {ManifestFileName}.");
        }

        return full;
    }
}
