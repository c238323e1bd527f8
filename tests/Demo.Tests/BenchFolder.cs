namespace NeuralOde.Demo.Tests;

/// <summary>Gives the tests the benchmark folder and makes scratch copies of problems.</summary>
internal static class BenchFolder
{
    /// <summary>Gets the benchmark folder: the repository's committed <c>testdata/bench</c>.</summary>
    public static string Path => TestData.Bench;

    /// <summary>Copies one problem folder to a new temporary folder (writable, so that tests can corrupt it).</summary>
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
}
