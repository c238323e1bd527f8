using NeuralOde.Modules;
using NeuralOde.Solving;
using TorchSharp;
using static TorchSharp.torch;

namespace NeuralOde.Tests;

/// <summary>The neural-ODE modules behave like TorchSharp modules.</summary>
[Collection("Torch")]
public sealed class ModuleTests
{
    [Fact]
    public void MlpDynamics_StateDictKeys_AreCheckpointFriendly()
    {
        var dynamics = new MlpDynamics(4, 8, 2, timeInput: true);
        var keys = dynamics.state_dict().Keys.ToArray();
        Assert.Equal(["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias", "layers.2.weight", "layers.2.bias"], keys);
        Assert.Equal([8L, 5L], dynamics.state_dict()["layers.0.weight"].shape);
        var block = new OdeBlock(dynamics, Schemes.Get("RK4"), SolverOptions.FixedSteps(4));
        Assert.Contains("odefunc.layers.0.weight", block.state_dict().Keys);
    }

    [Fact]
    public void OdeBlock_DropsIntoSequential_AndMovesWithTo()
    {
        using var scope = NewDisposeScope();
        var model = nn.Sequential(
            ("encode", nn.Linear(6, 4)),
            ("ode", new OdeBlock(new MlpDynamics(4, 8), Schemes.Get("Tsit5"))),
            ("head", nn.Linear(4, 2)));
        model.to(ScalarType.Float64);
        var x = randn(3, 6, dtype: ScalarType.Float64);
        var y = model.call(x);
        Assert.Equal([3L, 2L], y.shape);
        Assert.Equal(ScalarType.Float64, y.dtype);
        y.sum().backward();
        Assert.All(model.parameters(), static p => Assert.NotNull(p.grad));
    }

    [Fact]
    public void Checkpoint_SaveAndLoad_RoundTripsExactly_AndRejectsAMismatch()
    {
        using var scope = NewDisposeScope();
        var folder = Directory.CreateTempSubdirectory("neuralode-ckpt").FullName;
        try
        {
            var path = Path.Combine(folder, "model.bin");
            var model = new OdeClassifier(10, 4, 6, 2, 3, Schemes.Get("RKF45"));
            Checkpoint.Save(model, path);
            Assert.Equal(["model.bin"], Directory.GetFiles(folder).Select(Path.GetFileName));

            var copy = new OdeClassifier(10, 4, 6, 2, 3, Schemes.Get("RKF45"));
            Checkpoint.Load(copy, path);
            foreach (var (a, b) in model.parameters().Zip(copy.parameters()))
            {
                Assert.True(a.eq(b).all().item<bool>());
            }

            var x = randn(2, 10);
            using (no_grad())
            {
                Assert.True(model.call(x).eq(copy.call(x)).all().item<bool>());
            }

            var other = new OdeClassifier(10, 5, 6, 2, 3, Schemes.Get("RKF45"));
            Assert.Throws<InvalidDataException>(() => Checkpoint.Load(other, path));
            Assert.Throws<FileNotFoundException>(() => Checkpoint.Load(copy, Path.Combine(folder, "missing.bin")));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void OdeBlock_BadInputs_ThrowClearErrors()
    {
        using var scope = NewDisposeScope();
        var block = new OdeBlock(new MlpDynamics(4, 8), Schemes.Get("DOPRI5"));
        var shape = Assert.Throws<ArgumentException>(() => block.call(randn(3, 5)));
        Assert.Contains("[B, 4]", shape.Message);

        var wrong = new OdeBlock(new WrongShape(), Schemes.Get("DOPRI5"));
        var error = Assert.Throws<InvalidOperationException>(() => wrong.call(randn(3, 4)));
        Assert.Contains("shape", error.Message);

        var exploding = new OdeBlock(new Exploding(), Schemes.Get("DOPRI5"));
        var failure = Assert.Throws<OdeSolverException>(() => exploding.call(ones(2, 4)));
        Assert.Equal(2, failure.Failures.Count);

        exploding.ThrowOnFailure = false;
        var kept = exploding.call(ones(2, 4));
        Assert.True(kept.isfinite().all().item<bool>());
    }

    [Fact]
    public void Classifiers_ProduceLogitsOfTheRightShape()
    {
        using var scope = NewDisposeScope();
        var images = randn(5, 1, 28, 28);
        var ode = new OdeClassifier(784, 20, 10, 2, 10, Schemes.Get("RKF45"));
        var mlp = new MlpClassifier(784, 20, 10, 2, 10);
        Assert.Equal([5L, 10L], ode.call(images).shape);
        Assert.Equal([5L, 10L], mlp.call(images).shape);
        Assert.True(ode.Block.LastForward.Calls > 0);
    }

    [Fact]
    public void MlpDynamics_Trace_ReturnsEveryLayerAndEndsWithTheForwardResult()
    {
        using var scope = NewDisposeScope();
        var dynamics = new MlpDynamics(4, 6, depth: 3, timeInput: true);
        var t = rand(5);
        var y = randn(5, 4);
        var trace = dynamics.Trace(t, y);
        Assert.Equal(4, trace.Count);
        Assert.All(trace.Take(3), static h => Assert.Equal([5L, 6L], h.shape));
        Assert.True(trace[^1].allclose(dynamics.call(t, y)));
        Assert.True(trace[0].abs().max().item<float>() <= 1f, "hidden states are after tanh");

        var mlp = new MlpClassifier(10, 4, 6, 2, 3);
        Assert.Equal(4, mlp.Body.Dim);
        Assert.Equal(2, mlp.Body.Depth);
    }

    private sealed class WrongShape : OdeFunc
    {
        public WrongShape()
            : base(nameof(WrongShape))
        {
        }

        public override Tensor forward(Tensor t, Tensor y) => y.sum(1, keepdim: true);
    }

    private sealed class Exploding : OdeFunc
    {
        public Exploding()
            : base(nameof(Exploding))
        {
        }

        // dy/dt = y², y(0) = 1: blows up at t = 1, which the block's default interval reaches.
        public override Tensor forward(Tensor t, Tensor y) => y.square().mul(1.5);
    }
}
