using NeuralOde.Demo.Analysis;
using NeuralOde.Demo.Training;
using static TorchSharp.torch;

namespace NeuralOde.Demo.Tests;

/// <summary>PCA and the figures: non-empty PNGs and CSVs of the right shape.</summary>
[Collection("Torch")]
public sealed class VisualizeTests : IDisposable
{
    private static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    private readonly string folder = Directory.CreateTempSubdirectory("neuralode-visualize-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public void PcaFindsTheDirectionsOfLargestVariance()
    {
        manual_seed(3);
        using var scope = NewDisposeScope();
        var n = 2000;
        var data = stack([randn(n).mul(5.0), randn(n).mul(2.0), randn(n).mul(0.1)], 1).add(tensor(new float[] { 1, 2, 3 }));
        var rotation = linalg.qr(randn(3, 3)).Q;
        var rotated = data.matmul(rotation.t());

        using var pca = Pca.Fit(rotated);

        Assert.Equal([3L, 2], pca.Components.shape);
        var first = pca.Components.select(1, 0).to(ScalarType.Float32);
        var expected = rotation.select(1, 0);
        Assert.True(first.dot(expected).abs().item<float>() > 0.99f);
        Assert.InRange(pca.ExplainedVarianceRatio[0], 25.0 / 29.01 - 0.03, 25.0 / 29.01 + 0.03);
        Assert.True(pca.ExplainedVarianceRatio[0] > pca.ExplainedVarianceRatio[1]);
        var projected = pca.Transform(rotated);
        Assert.True(projected.mean([0L]).abs().max().item<double>() < 1e-6);
        Assert.Equal([n, 2L], projected.shape);
    }

    [Fact]
    public void WritesPngFiguresAndCsvsOfTheRightShape()
    {
        var mlp = Path.Combine(folder, "mlp");
        var ode = Path.Combine(folder, "ode");
        TrainingTests.Train(TrainingTests.Tiny(ModelKind.Mlp, 1), mlp);
        TrainingTests.Train(TrainingTests.Tiny(ModelKind.Ode, 1), ode);
        var figures = Path.Combine(folder, "figures");
        var options = new VisualizeOptions { Indices = [0, 5, 17], FitCount = 200, Times = 50 };

        var result = Visualizer.Run(mlp, ode, TinyMnist.Data, options, figures);

        Assert.Equal([0, 5, 17], result.Indices);
        foreach (var name in new[] { Visualizer.CurvesFigure, Visualizer.MlpFigure, Visualizer.OdeFigure })
        {
            var bytes = File.ReadAllBytes(Path.Combine(figures, name));
            Assert.True(bytes.Length > 1024, $"{name}: {bytes.Length} bytes");
            Assert.Equal(PngSignature, bytes[..8]);
        }

        // ODE: one row per chosen input and time point; index, label, predicted, t, pc1, pc2.
        var ode_ = File.ReadAllLines(Path.Combine(figures, Visualizer.OdeCsv));
        Assert.Equal(1 + (3 * 50), ode_.Length);
        Assert.All(ode_, static line => Assert.Equal(6, line.Split(',').Length));
        Assert.Equal("0", ode_[1].Split(',')[3]);
        Assert.Equal("1", ode_[50].Split(',')[3]);

        // MLP: per chosen input, its point at each of the 3 layers (h0, hidden 1, output) in their own PCA, and again
        // on the joint path through the layers of h0's size (all 3 here: the width equals the hidden size).
        var mlp_ = File.ReadAllLines(Path.Combine(figures, Visualizer.MlpCsv));
        Assert.Equal(1 + (3 * (3 + 3)), mlp_.Length);
        Assert.Equal(3 * 3, mlp_.Count(static line => line.Split(',')[3] == "joint"));
        Assert.All(mlp_, static line => Assert.Equal(8, line.Split(',').Length));
        Assert.Empty(Directory.GetFiles(figures, ".*.tmp"));
    }

    [Fact]
    public void RandomInputsAreSeededAndIndicesAreChecked()
    {
        var a = Visualizer.ChooseIndices(new VisualizeOptions { Samples = 5, Seed = 4 }, 100);
        var b = Visualizer.ChooseIndices(new VisualizeOptions { Samples = 5, Seed = 4 }, 100);

        Assert.Equal(a, b);
        Assert.Equal(5, a.Distinct().Count());
        Assert.Throws<ArgumentException>(() => Visualizer.ChooseIndices(new VisualizeOptions { Indices = [100] }, 100));
    }
}
