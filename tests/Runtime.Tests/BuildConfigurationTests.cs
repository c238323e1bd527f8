using System.Diagnostics;
using System.Text.Json;

namespace NeuralOde.Tests;

/// <summary>The MSBuild switch between the CPU and CUDA native backends (the CUDA package is not served here, so
/// only the switch itself is checked: which package an evaluation of the project references).</summary>
public sealed class BuildConfigurationTests
{
    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "NeuralOde.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("NeuralOde.sln not found above the test's folder.");
    }

    private static (int ExitCode, string Output) Msbuild(params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = RepositoryRoot(),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in new[] { "msbuild", Path.Combine("src", "Demo", "Demo.csproj"), "-nologo" }.Concat(arguments))
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(2)), "msbuild did not finish");
        return (process.ExitCode, output.Result + error.Result);
    }

    private static (int ExitCode, string Output) EvaluatePackages(string? backend) =>
        backend is null ? Msbuild("-getItem:PackageReference") : Msbuild("-getItem:PackageReference", $"-p:TorchBackend={backend}");

    private static string[] Packages(string json) =>
        [.. JsonDocument.Parse(json).RootElement.GetProperty("Items").GetProperty("PackageReference")
            .EnumerateArray().Select(static item => item.GetProperty("Identity").GetString()!)];

    [Theory]
    [InlineData(null, "TorchSharp-cpu", "TorchSharp-cuda-linux")]
    [InlineData("cpu", "TorchSharp-cpu", "TorchSharp-cuda-linux")]
    [InlineData("cuda", "TorchSharp-cuda-linux", "TorchSharp-cpu")]
    public void TorchBackend_SelectsTheNativePackage(string? backend, string expected, string absent)
    {
        var (exitCode, output) = EvaluatePackages(backend);
        Assert.True(exitCode == 0, output);
        var packages = Packages(output);
        Assert.Contains(expected, packages);
        Assert.DoesNotContain(absent, packages);
    }

    [Fact]
    public void TorchBackend_UnknownValue_FailsTheBuildWithAClearMessage()
    {
        var (exitCode, output) = Msbuild("-t:CollectPackageReferences", "-p:TorchBackend=rocm");
        Assert.NotEqual(0, exitCode);
        Assert.Contains("TorchBackend must be 'cpu' or 'cuda'", output);
    }
}
