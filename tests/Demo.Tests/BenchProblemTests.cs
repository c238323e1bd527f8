using NeuralOde.Demo.Bench;
using TorchSharp;

namespace NeuralOde.Demo.Tests;

[Collection("Torch")]
public sealed class BenchProblemTests
{
    [Fact]
    public void ManifestListsTheSharedProblems()
    {
        var problems = BenchData.ReadManifest(BenchFolder.Path);

        Assert.Contains("mlp_d64_h64_b1024", problems);
        Assert.Contains("stiff_d16_b1024", problems);
        Assert.Contains("expdecay", problems);
        Assert.Contains("arenstorf", problems);
    }

    [Fact]
    public void EveryCommittedProblemPassesItsSha256Checks()
    {
        foreach (var name in BenchData.ReadManifest(BenchFolder.Path))
        {
            using var problem = BenchData.LoadProblem(BenchFolder.Path, name);
            Assert.Equal(name, problem.Name);
        }
    }

    [Fact]
    public void WalkingUpFindsTheRepositoryCopyBeforeASharedFolder()
    {
        var root = Directory.CreateTempSubdirectory("neuralode-locate-").FullName;
        try
        {
            var repo = Path.Combine(root, "repo");
            foreach (var bench in new[] { Path.Combine(repo, "testdata", "bench"), Path.Combine(root, "shared", "bench") })
            {
                Directory.CreateDirectory(bench);
                File.WriteAllText(Path.Combine(bench, BenchData.ManifestFileName), """{ "problems": ["expdecay"] }""");
            }

            var deep = Directory.CreateDirectory(Path.Combine(repo, "src", "Demo")).FullName;
            Assert.Equal(Path.Combine(repo, "testdata", "bench"), BenchData.FindUpwards(deep));
            Assert.Equal(Path.Combine(root, "shared", "bench"), BenchData.FindUpwards(root));
            Assert.Equal(Path.GetFullPath(Path.Combine(TestData.RepositoryRoot, "testdata", "bench")), BenchData.FindUpwards(AppContext.BaseDirectory));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void LoadsARealProblemWithShapesAndDtypes()
    {
        using var problem = BenchData.LoadProblem(BenchFolder.Path, "mlp_d64_h64_b1024");

        Assert.Equal("mlp", problem.Kind);
        Assert.Equal(torch.ScalarType.Float32, problem.DType);
        Assert.Equal(1024, problem.Header.Spec.B);
        Assert.Equal(25, problem.Header.Spec.Rk4Steps);
        Assert.Equal(new long[] { 64, 64 }, problem["W1"].shape);
        Assert.Equal(new long[] { 64 }, problem["b1"].shape);
        Assert.Equal(new long[] { 1024, 64 }, problem["y0"].shape);
        Assert.Equal(torch.ScalarType.Float32, problem["y0"].dtype);
        Assert.Equal(torch.ScalarType.Float64, problem["ref_yT"].dtype);
        Assert.True(problem["y0"].isfinite().all().item<bool>());
    }

    [Fact]
    public void ReadsLittleEndianValues()
    {
        using var problem = BenchData.LoadProblem(BenchFolder.Path, "expdecay");

        Assert.Equal(1.0, problem["y0"].item<double>());
        Assert.Equal(Math.Exp(-1), problem["ref_yT"].item<double>(), 15);
    }

    [Fact]
    public void StiffRatesMatchTheirDefinition()
    {
        using var problem = BenchData.LoadProblem(BenchFolder.Path, "stiff_d16_b1024");
        var lam = problem["lam"].data<float>().ToArray();

        Assert.Equal(1024, lam.Length);
        Assert.Equal(1f, lam[0]);
        Assert.Equal((float)Math.Pow(10, 3.0 * 500 / 1023), lam[500]);
        Assert.Equal(1000f, lam[^1]);
    }

    [Fact]
    public void RejectsACorruptedFileNamingItAndBothHashes()
    {
        var copy = BenchFolder.CopyProblem("expdecay");
        try
        {
            var path = Path.Combine(copy, "y0.f64");
            var bytes = File.ReadAllBytes(path);
            bytes[3] ^= 0x10;
            File.WriteAllBytes(path, bytes);

            var error = Assert.Throws<BenchDataException>(() => BenchProblem.Load(copy));

            Assert.Contains("y0.f64", error.Message, StringComparison.Ordinal);
            Assert.Contains("sha256", error.Message, StringComparison.Ordinal);
            Assert.Contains("6c3c396ed6b5c36dcae172271f462051b1266b851e92df3deea8ac65478fd712", error.Message, StringComparison.Ordinal);
            Assert.Contains(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)), error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(copy, recursive: true);
        }
    }

    [Fact]
    public void RejectsATruncatedFile()
    {
        var copy = BenchFolder.CopyProblem("arenstorf");
        try
        {
            var path = Path.Combine(copy, "ref_yT.f64");
            File.WriteAllBytes(path, File.ReadAllBytes(path)[..20]);

            var error = Assert.Throws<BenchDataException>(() => BenchProblem.Load(copy));

            Assert.Contains("ref_yT.f64", error.Message, StringComparison.Ordinal);
            Assert.Contains("20 bytes", error.Message, StringComparison.Ordinal);
            Assert.Contains("needs 32", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(copy, recursive: true);
        }
    }

    [Fact]
    public void RejectsAMissingFile()
    {
        var copy = BenchFolder.CopyProblem("expdecay");
        try
        {
            File.Delete(Path.Combine(copy, "ref_yT.f64"));

            var error = Assert.Throws<BenchDataException>(() => BenchProblem.Load(copy));

            Assert.Contains("ref_yT.f64", error.Message, StringComparison.Ordinal);
            Assert.Contains("not found", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(copy, recursive: true);
        }
    }

    [Fact]
    public void LocateHonoursAnExplicitFolderAndRejectsOneWithoutManifest()
    {
        Assert.Equal(Path.GetFullPath(BenchFolder.Path), BenchData.Locate(BenchFolder.Path));

        var empty = Directory.CreateTempSubdirectory("neuralode-empty-").FullName;
        try
        {
            var error = Assert.Throws<BenchDataException>(() => BenchData.Locate(empty));
            Assert.Contains("manifest.json", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(empty);
        }
    }

    [Fact]
    public void UnknownProblemListsTheKnownOnes()
    {
        var error = Assert.Throws<BenchDataException>(() => BenchData.LoadProblem(BenchFolder.Path, "nope"));

        Assert.Contains("expdecay", error.Message, StringComparison.Ordinal);
    }
}
