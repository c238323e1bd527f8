using System.Text.Json;
using NeuralOde.Demo.Cli;

namespace NeuralOde.Demo.Tests;

[Collection("Torch")]
public sealed class CommandLineTests
{
    private static (int Code, string Output) Run(params string[] args)
    {
        var writer = new StringWriter();
        var code = DemoApp.Run(args, Output.CreatePlain(writer));
        return (code, writer.ToString());
    }

    [Fact]
    public void SchemesCommandListsTheRegistry()
    {
        var (code, output) = Run("schemes");

        Assert.Equal(0, code);
        Assert.Contains("| DOPRI5", output, StringComparison.Ordinal);
        Assert.Contains("| RKF45", output, StringComparison.Ordinal);
        Assert.Contains("| Tsit5", output, StringComparison.Ordinal);
    }

    [Fact]
    public void EveryCommandHasHelp()
    {
        foreach (var args in new[] { new[] { "--help" }, ["schemes", "--help"], ["bench", "--help"], ["train", "--help"], ["visualize", "--help"], ["story", "--help"] })
        {
            var (code, output) = Run(args);
            Assert.Equal(0, code);
            Assert.Contains("USAGE", output, StringComparison.Ordinal);
        }

        Assert.Contains("--compare-shared", Run("bench", "--help").Output, StringComparison.Ordinal);
    }

    [Fact]
    public void BenchWritesAPlainTableAndJson()
    {
        var json = Path.Combine(Path.GetTempPath(), $"neuralode-bench-{Guid.NewGuid():N}.json");
        try
        {
            var (code, output) = Run(
                "bench", "--data", BenchFolder.Path, "--problem", "expdecay", "--scheme", "DOPRI5,RK4",
                "--repeats", "1", "--warmup", "0", "--json", json);

            Assert.Equal(0, code);
            Assert.DoesNotContain('\u001b', output);
            Assert.Contains("threads: 1", output, StringComparison.Ordinal);
            Assert.Contains("load average", output, StringComparison.Ordinal);
            Assert.Contains("| expdecay", output, StringComparison.Ordinal);
            Assert.Contains("fixed 25", output, StringComparison.Ordinal);

            using var document = JsonDocument.Parse(File.ReadAllText(json));
            var results = document.RootElement.GetProperty("results");
            Assert.Equal(2, results.GetArrayLength());
            Assert.Equal("DOPRI5", results[0].GetProperty("scheme").GetString());
            Assert.True(results[0].GetProperty("overhead").GetDouble() > 0);
            Assert.Equal(1, document.RootElement.GetProperty("machine").GetProperty("threads").GetInt32());
            Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(json)!, $".{Path.GetFileName(json)}.*.tmp"));
        }
        finally
        {
            File.Delete(json);
        }
    }

    [Fact]
    public void BenchRejectsUnknownProblemsAndSchemes()
    {
        DemoCli.UsageError("Unknown problem 'nope'; the problems: mlp_d64_h64_b1024, mlp_d64_h256_b4096,", "bench", "--data", BenchFolder.Path, "--problem", "nope");
        var line = DemoCli.UsageError("Error: Unknown Runge–Kutta scheme 'nope'. Known schemes: ", "bench", "--data", BenchFolder.Path, "--problem", "expdecay", "--scheme", "nope");
        Assert.Contains("DOPRI5", line, StringComparison.Ordinal);
        Assert.DoesNotContain("(Parameter", line, StringComparison.Ordinal);
        DemoCli.UsageError("--compaction must be auto, always or never; got 'sometimes'.", "bench", "--compaction", "sometimes");
    }
}
