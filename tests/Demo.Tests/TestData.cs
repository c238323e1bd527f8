namespace NeuralOde.Demo.Tests;

/// <summary>The repository's committed test data (<c>testdata/</c>): the tests never read anything outside the
/// repository and never reach the network.</summary>
internal static class TestData
{
    private static readonly Lazy<string> Root = new(static () =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "NeuralOde.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No folder above {AppContext.BaseDirectory} holds NeuralOde.sln: the tests run from the repository's build output.");
    });

    /// <summary>Gets the repository's root folder (the one with <c>NeuralOde.sln</c>).</summary>
    public static string RepositoryRoot => Root.Value;

    /// <summary>Gets the benchmark problems, <c>testdata/bench</c>.</summary>
    public static string Bench => Existing(Path.Combine(RepositoryRoot, "testdata", "bench"));

    /// <summary>Gets the MNIST fixture, <c>testdata/mnist</c> (512 training and 256 test images).</summary>
    public static string Mnist => Existing(Path.Combine(RepositoryRoot, "testdata", "mnist"));

    private static string Existing(string folder) =>
        Directory.Exists(folder) ? folder : throw new InvalidOperationException($"{folder} is missing: it is committed with the repository.");
}
