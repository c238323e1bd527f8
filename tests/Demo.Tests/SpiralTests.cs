using System.Text.Json;
using NeuralOde.Demo.Cli;
using NeuralOde.Demo.Spiral;

namespace NeuralOde.Demo.Tests;

/// <summary>The spiral demo: a few iterations lower the loss, and the command writes its figures and metrics.</summary>
[Collection("Torch")]
public sealed class SpiralTests : IDisposable
{
    private static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    private readonly string folder = Directory.CreateTempSubdirectory("neuralode-spiral-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Theory]
    [InlineData(false, "backprop", false)]
    [InlineData(false, "backprop", true)]
    [InlineData(true, "adjoint", false)]
    public void Command_WritesFigures_AndTheLossIsFiniteAndFalls(bool irregular, string gradient, bool perRowSteps)
    {
        var writer = new StringWriter();
        string[] args = ["spiral", "--iterations", "30", "--test-every", "10", "--threads", "1", "--gradient", gradient, "--out", folder];
        args = irregular ? [.. args, "--irregular"] : args;
        var code = DemoApp.Run(perRowSteps ? [.. args, "--per-row-steps"] : args, Output.CreatePlain(writer));

        var output = writer.ToString();
        Assert.True(code == 0, output);
        Assert.Contains("Final loss over the whole trajectory", output, StringComparison.Ordinal);
        foreach (var name in new[] { SpiralFigures.TrajectoriesFile, SpiralFigures.VectorFieldFile, SpiralFigures.LossFile })
        {
            var bytes = File.ReadAllBytes(Path.Combine(folder, name));
            Assert.True(bytes.Length > 10_000 && bytes.Length <= 300_000, $"{name}: {bytes.Length} bytes");
            Assert.Equal(PngSignature, bytes[..8]);
        }

        using var metrics = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(folder, "spiral.json")));
        var root = metrics.RootElement;
        Assert.Equal(30, root.GetProperty("iterationsRun").GetInt32());
        Assert.Equal(irregular, root.GetProperty("options").GetProperty("irregular").GetBoolean());
        Assert.Equal(perRowSteps, root.GetProperty("options").GetProperty("perRowSteps").GetBoolean());
        Assert.Contains(perRowSteps ? "per-window steps" : "one step size per batch", output, StringComparison.Ordinal);
        var total = root.GetProperty("totalLoss").EnumerateArray().Select(static p => (Iteration: p[0].GetDouble(), Loss: p[1].GetDouble())).ToArray();
        Assert.Equal([0.0, 10, 20, 30], total.Select(static p => p.Iteration));
        Assert.All(total, static p => Assert.True(double.IsFinite(p.Loss) && p.Loss > 0));
        var final = root.GetProperty("finalLoss").GetDouble();
        Assert.Equal(total[^1].Loss, final);
        Assert.True(final < 0.8 * total[0].Loss, $"the loss over the trajectory went from {total[0].Loss} (untrained) to {final}");
        Assert.True(root.GetProperty("secondsPerIteration").GetDouble() > 0);
        if (gradient == "adjoint")
        {
            Assert.True(root.GetProperty("backwardCallsPerIteration").GetDouble() > 0, "the adjoint's backward pass evaluated nothing");
        }
    }

    [Fact]
    public void BadOptions_GiveOneLineErrors()
    {
        foreach (var (args, expected) in new[]
        {
            (new[] { "spiral", "--gradient", "magic" }, "--gradient"),
            (["spiral", "--scheme", "RK4"], "no error estimate"),
            (["spiral", "--batch-time", "1"], "--batch-time"),
        })
        {
            var error = new StringWriter();
            var previous = Console.Error;
            Console.SetError(error);
            try
            {
                var code = DemoApp.Run([.. args, "--out", folder], Output.CreatePlain(new StringWriter()));
                Assert.Equal(2, code);
            }
            finally
            {
                Console.SetError(previous);
            }

            Assert.Contains(expected, error.ToString(), StringComparison.Ordinal);
        }
    }
}
