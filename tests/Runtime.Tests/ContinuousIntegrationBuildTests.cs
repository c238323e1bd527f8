using System.Diagnostics;

namespace NeuralOde.Tests;

/// <summary>CI=true makes what ships deterministic (ContinuousIntegrationBuild), and nothing else: in a test project
/// it would map [CallerFilePath] to /_/ and the snapshot tests would no longer find their files.</summary>
public sealed class ContinuousIntegrationBuildTests
{
    [Theory]
    [InlineData("src/Runtime/Runtime.csproj", "true")]
    [InlineData("src/Generators/Generators.csproj", "true")]
    [InlineData("tests/Generators.Tests/Generators.Tests.csproj", "")]
    [InlineData("tests/Demo.Tests/Demo.Tests.csproj", "")]
    public void OnlyShippedProjectsMapTheirPaths(string project, string expected)
    {
        var framework = project.Contains("Runtime.csproj", StringComparison.Ordinal) ? "-p:TargetFramework=net10.0" : "-p:Unused=1";
        var (code, output) = Msbuild(project.Replace('/', Path.DirectorySeparatorChar), "-p:CI=true", framework, "-getProperty:ContinuousIntegrationBuild");

        Assert.True(code == 0, output);
        Assert.Equal(expected, output.Trim());
    }

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
        foreach (var argument in new[] { "msbuild", "-nologo" }.Concat(arguments))
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(2)), "msbuild did not finish");
        return (process.ExitCode, output.Result + error.Result);
    }
}
