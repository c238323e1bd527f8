using NeuralOde.Modules;
using NeuralOde.Solving;
using TorchSharp;
using static TorchSharp.torch;

namespace NeuralOde.Tests;

/// <summary><see cref="OdeBlock.Trajectory"/>: states on a time grid, shared or per row, and their gradients.</summary>
[Collection("Torch")]
public sealed class TrajectoryTests
{
    private const int Rows = 4;
    private const int Times = 5;

    /// <summary>The grids the gradient tests run on.</summary>
    public enum Grid
    {
        /// <summary><c>[T]</c>, shared by all rows.</summary>
        Shared,

        /// <summary><c>[B, T]</c>: every row its own times between a shared start and end.</summary>
        SharedEnds,

        /// <summary><c>[B, T]</c>: every row its own start, end and times.</summary>
        OwnSpans,

        /// <summary><c>[B, T]</c>: own spans, and rows 1 and 3 run the other way.</summary>
        MixedDirections,
    }

    private static OdeBlock Block(GradientMode mode, SolverOptions options, int seed = 7)
    {
        random.manual_seed(seed);

        // Non-autonomous: a wrong clock would change the result.
        var dynamics = new MlpDynamics(3, 8, 2, Activation.Tanh, timeInput: true);
        dynamics.to(ScalarType.Float64);
        return new OdeBlock(dynamics, Schemes.Get("DOPRI5"), options, gradientMode: mode);
    }

    private static Tensor MakeGrid(Grid kind, bool backwards)
    {
        var generator = new TorchSharp.torch.Generator(3);
        Tensor grid;
        switch (kind)
        {
            case Grid.Shared:
                grid = tensor(new[] { 0.0, 0.2, 0.45, 0.8, 1.0 }, dtype: ScalarType.Float64);
                break;
            case Grid.SharedEnds:
                var inner = rand(Rows, Times - 2, dtype: ScalarType.Float64, generator: generator).mul(0.9).add(0.05).sort(1).Values;
                grid = cat([zeros(Rows, 1, dtype: ScalarType.Float64), inner, ones(Rows, 1, dtype: ScalarType.Float64)], 1);
                break;
            default:
                var steps = rand(Rows, Times - 1, dtype: ScalarType.Float64, generator: generator).mul(0.3).add(0.05);
                var start = rand(Rows, 1, dtype: ScalarType.Float64, generator: generator).sub(0.5);
                grid = cat([start, start.add(steps.cumsum(1))], 1);
                break;
        }

        if (backwards)
        {
            grid = grid.flip(-1);
        }

        if (kind == Grid.MixedDirections)
        {
            grid = grid.clone();
            grid[1] = grid[1].flip(0);
            grid[3] = grid[3].flip(0);
        }

        return grid;
    }

    // A loss over every output, each weighted differently, so that a cotangent added at the wrong time or row shows.
    private static Tensor Loss(Tensor trajectory)
    {
        var weights = linspace(0.5, 1.5, trajectory.numel(), dtype: ScalarType.Float64).reshape(trajectory.shape);
        return trajectory.mul(weights).sum().add(trajectory.square().sum().mul(0.25));
    }

    private static (Tensor Y0Grad, Tensor[] ParameterGrads) Gradients(OdeBlock block, Tensor y0, Tensor ts)
    {
        foreach (var p in block.parameters())
        {
            p.grad = null;
        }

        var x = y0.clone().requires_grad_(true);
        Loss(block.Trajectory(x, ts)).backward();
        return (x.grad!.clone(), [.. block.parameters().Select(static p => p.grad!.clone())]);
    }

    // dL/dy0 and dL/dθ of the two blocks on the same grid, to 1e-6 relative.
    private static void AssertAdjointMatchesBackprop(OdeBlock backprop, OdeBlock adjoint, Tensor y0, Tensor ts)
    {
        var (gy0B, gpB) = Gradients(backprop, y0, ts);
        var (gy0A, gpA) = Gradients(adjoint, y0, ts);
        Assert.True(RelativeError(gy0A, gy0B) <= 1e-6, $"dL/dy0 relative error {RelativeError(gy0A, gy0B):E2}");
        foreach (var (a, b) in gpA.Zip(gpB))
        {
            Assert.True(RelativeError(a, b) <= 1e-6, $"dL/dθ relative error {RelativeError(a, b):E2}");
        }
    }

    private static double RelativeError(Tensor actual, Tensor expected) =>
        actual.sub(expected).norm().item<double>() / Math.Max(expected.norm().item<double>(), 1e-300);

    [Theory]
    [InlineData(Grid.Shared, false)]
    [InlineData(Grid.Shared, true)]
    [InlineData(Grid.SharedEnds, false)]
    [InlineData(Grid.SharedEnds, true)]
    [InlineData(Grid.OwnSpans, false)]
    [InlineData(Grid.OwnSpans, true)]
    [InlineData(Grid.MixedDirections, false)]
    public void Gradients_BackpropAdjointAndFiniteDifferences_Agree(Grid kind, bool backwards)
    {
        using var scope = NewDisposeScope();
        var options = SolverOptions.Adaptive(1e-10, 1e-12);
        var backprop = Block(GradientMode.Backprop, options);
        var adjoint = Block(GradientMode.Adjoint, options);
        var reference = Block(GradientMode.Backprop, SolverOptions.Adaptive(1e-13, 1e-14));
        var y0 = randn(Rows, 3, dtype: ScalarType.Float64, generator: new TorchSharp.torch.Generator(5));
        var ts = MakeGrid(kind, backwards);

        var (gy0B, gpB) = Gradients(backprop, y0, ts);
        var (gy0A, gpA) = Gradients(adjoint, y0, ts);
        Assert.True(adjoint.LastBackward.Calls > 0, "the adjoint's backward pass evaluated nothing");

        var y0Error = RelativeError(gy0A, gy0B);
        Assert.True(y0Error <= 1e-6, $"dL/dy0: adjoint vs backprop relative error {y0Error:E2}");
        foreach (var (a, b) in gpA.Zip(gpB))
        {
            var error = RelativeError(a, b);
            Assert.True(error <= 1e-6, $"dL/dθ: adjoint vs backprop relative error {error:E2}");
        }

        // Central differences of the loss (solved at a tighter tolerance) along random directions in (θ, y0).
        var parameters = reference.parameters().ToArray();
        var generator = new TorchSharp.torch.Generator(11);
        for (var trial = 0; trial < 2; trial++)
        {
            var directions = parameters.Select(p => randn(p.shape, dtype: p.dtype, generator: generator)).ToArray();
            var inputDirection = randn(y0.shape, dtype: y0.dtype, generator: generator);
            double Directional(Tensor gy0, Tensor[] gp) =>
                gp.Zip(directions).Sum(pd => pd.First.mul(pd.Second).sum().item<double>()) + gy0.mul(inputDirection).sum().item<double>();

            // The truncation error is O(ε²) (measured: 1.7e-6 relative at ε = 1e-4 on the backward grids), the
            // solve's noise at this tolerance O(1e-13 / ε).
            const double Eps = 1e-5;
            double Shifted(double sign)
            {
                using var noGrad = no_grad();
                foreach (var (p, d) in parameters.Zip(directions))
                {
                    p.add_(d, sign * Eps);
                }

                var value = Loss(reference.Trajectory(y0.add(inputDirection, sign * Eps), ts)).item<double>();
                foreach (var (p, d) in parameters.Zip(directions))
                {
                    p.add_(d, -sign * Eps);
                }

                return value;
            }

            var numeric = (Shifted(+1) - Shifted(-1)) / (2 * Eps);
            foreach (var (name, analytic) in new[] { ("backprop", Directional(gy0B, gpB)), ("adjoint", Directional(gy0A, gpA)) })
            {
                var error = Math.Abs(analytic - numeric) / Math.Max(1.0, Math.Abs(numeric));
                Assert.True(error <= 1e-6, $"{name}: directional derivative {analytic:R}, finite differences {numeric:R} (relative error {error:E2})");
            }
        }
    }

    [Theory]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void Adjoint_FullNormOrSharedSteps_OnPerRowSpans_MatchesBackprop(bool seminorm, bool shared)
    {
        using var scope = NewDisposeScope();
        var options = SolverOptions.Adaptive(1e-10, 1e-12);
        var backprop = Block(GradientMode.Backprop, options);
        var adjoint = Block(GradientMode.Adjoint, options);
        adjoint.Adjoint = new AdjointOptions { Seminorm = seminorm, SharedStepSize = shared };
        var y0 = randn(Rows, 3, dtype: ScalarType.Float64, generator: new TorchSharp.torch.Generator(5));
        var ts = MakeGrid(Grid.MixedDirections, backwards: false);

        AssertAdjointMatchesBackprop(backprop, adjoint, y0, ts);
    }

    [Theory]
    [InlineData(CompactionMode.Never)]
    [InlineData(CompactionMode.Always)]
    public void Adjoint_OnPerRowSpans_WithOrWithoutCompaction_MatchesBackprop(CompactionMode compaction)
    {
        // Rows end their backward segments at different times: without compaction the finished ones stay in the work
        // set, where the parameter terms taken in the vector–Jacobian product's pass weight them by 0.
        using var scope = NewDisposeScope();
        var options = SolverOptions.Adaptive(1e-10, 1e-12) with { Compaction = compaction };
        var backprop = Block(GradientMode.Backprop, options);
        var adjoint = Block(GradientMode.Adjoint, options);
        var y0 = randn(Rows, 3, dtype: ScalarType.Float64, generator: new TorchSharp.torch.Generator(7));
        var ts = MakeGrid(Grid.OwnSpans, backwards: false);

        AssertAdjointMatchesBackprop(backprop, adjoint, y0, ts);
    }

    [Theory]
    [InlineData("RKF45")]    // no dense output: the solver's own output times (cubic Hermite)
    [InlineData("Tsit5")]
    public void Trajectory_WithAnyAdaptiveScheme_IsExactToTolerance(string scheme)
    {
        using var scope = NewDisposeScope();
        var block = new OdeBlock(new Decay(), Schemes.Get(scheme), SolverOptions.Adaptive(1e-10, 1e-12));
        var y0 = tensor(new[] { 1.0, -2.0, 0.5 }, dtype: ScalarType.Float64).unsqueeze(1);
        foreach (var ts in new[]
        {
            tensor(new[,] { { 0.0, 0.5, 2.0 }, { 1.0, 0.25, -1.0 }, { -3.0, -2.5, -2.0 } }, dtype: ScalarType.Float64),
            tensor(new[] { 0.0, 0.3, 0.9, 1.0 }, dtype: ScalarType.Float64),
        })
        {
            var trajectory = block.Trajectory(y0, ts).squeeze(2);
            var starts = ts.dim() == 2 ? ts.select(1, 0).unsqueeze(1) : ts[..1].unsqueeze(0);
            var exact = y0.mul(ts.sub(starts).neg().exp());
            var error = trajectory.sub(exact).abs().max().item<double>();
            Assert.True(error < 1e-7, $"{scheme}: max error {error:E2} on a grid of shape [{string.Join(", ", ts.shape)}]");
        }
    }

    [Theory]
    [InlineData(GradientMode.Backprop)]
    [InlineData(GradientMode.Adjoint)]
    public void Trajectory_StartsAtY0_AndEveryRowMatchesThatRowAlone(GradientMode mode)
    {
        using var scope = NewDisposeScope();
        var block = Block(mode, SolverOptions.Adaptive(1e-10, 1e-12));
        var y0 = randn(Rows, 3, dtype: ScalarType.Float64);
        var ts = MakeGrid(Grid.MixedDirections, backwards: false);

        var trajectory = block.Trajectory(y0, ts);
        Assert.Equal([Rows, Times, 3L], trajectory.shape);
        Assert.True(trajectory.select(1, 0).eq(y0).all().item<bool>(), "the first state is not y0");
        for (var r = 0; r < Rows; r++)
        {
            // The row alone, over its own grid given as a shared [T] grid: one span, solved without a per-row clock.
            var alone = block.Trajectory(y0[r..(r + 1)], ts[r]);
            var error = trajectory[r..(r + 1)].sub(alone).abs().max().item<double>();
            Assert.True(error < 1e-8, $"row {r} differs from the row solved alone by {error:E2}");
        }
    }

    [Fact]
    public void Trajectory_OfAnAnalyticProblem_IsExactToTolerance()
    {
        using var scope = NewDisposeScope();
        var block = new OdeBlock(new Decay(), Schemes.Get("DOPRI5"), SolverOptions.Adaptive(1e-10, 1e-12));
        var y0 = tensor(new[] { 1.0, -2.0, 0.5 }, dtype: ScalarType.Float64).unsqueeze(1);
        var ts = tensor(new[,] { { 0.0, 0.5, 2.0 }, { 1.0, 0.25, -1.0 }, { -3.0, -2.5, -2.0 } }, dtype: ScalarType.Float64);

        var trajectory = block.Trajectory(y0, ts).squeeze(2);

        // y(t) = y0 · exp(−(t − t_start)) per row.
        var exact = y0.mul(ts.sub(ts.select(1, 0).unsqueeze(1)).neg().exp());
        var error = trajectory.sub(exact).abs().max().item<double>();
        Assert.True(error < 1e-8, $"max error {error:E2}");
    }

    [Fact]
    public void Trajectory_Float32_FarFromZero_SamplesOnAFloat64Clock()
    {
        using var scope = NewDisposeScope();

        // At t ≈ 1000 float32 times are 6e-5 apart: a step's θ taken from them would be off by ~1e-3.
        var block = new OdeBlock(new Decay(), Schemes.Get("DOPRI5"), SolverOptions.Adaptive(1e-6, 1e-8));
        var y0 = ones(2, 1);
        var ts = tensor(new[,] { { 1000.0, 1000.13, 1000.61, 1001.37, 1002.0 }, { 1000.5, 1000.77, 1001.09, 1001.9, 1002.2 } }, dtype: ScalarType.Float64);
        var trajectory = block.Trajectory(y0, ts).squeeze(2).to(ScalarType.Float64);
        var exact = ts.sub(ts.select(1, 0).unsqueeze(1)).neg().exp();
        var error = trajectory.sub(exact).abs().max().item<double>();
        Assert.True(error < 2e-6, $"max error {error:E2}");
    }

    [Theory]
    [InlineData(GradientMode.Backprop)]
    [InlineData(GradientMode.Adjoint)]
    public void Forward_KeepsItsMeaning_TheLastStateOfTheTrajectory(GradientMode mode)
    {
        using var scope = NewDisposeScope();
        var block = Block(mode, SolverOptions.Adaptive(1e-6, 1e-8));
        block.T0 = 0.25;
        block.T1 = 1.5;
        var y0 = randn(Rows, 3, dtype: ScalarType.Float64).requires_grad_(true);
        var ts = tensor(new[] { 0.25, 0.5, 1.0, 1.5 }, dtype: ScalarType.Float64);

        var final = block.forward(y0);
        var trajectory = block.Trajectory(y0, ts);
        Assert.Equal([Rows, 3L], final.shape);

        // The same span and options: the same steps, and the last output is the step's own end state.
        Assert.True(final.eq(trajectory.select(1, 3)).all().item<bool>());
    }

    [Fact]
    public void Trajectory_Float32_Works()
    {
        using var scope = NewDisposeScope();
        var block = new OdeBlock(new MlpDynamics(2, 16), Schemes.Get("DOPRI5"), gradientMode: GradientMode.Adjoint);
        var y0 = randn(3, 2).requires_grad_(true);
        var ts = rand(3, 6).cumsum(1);
        var trajectory = block.Trajectory(y0, ts);
        Assert.Equal(ScalarType.Float32, trajectory.dtype);
        trajectory.sum().backward();
        Assert.True(y0.grad!.isfinite().all().item<bool>());
        Assert.All(block.parameters(), static p => Assert.True(p.grad is not null && p.grad.isfinite().all().item<bool>()));
    }

    private static ArgumentException OneSentence(Action action)
    {
        var error = Assert.Throws<ArgumentException>(action);
        var message = error.Message.Split(" (Parameter '")[0];
        Assert.DoesNotContain('\n', message);
        Assert.True(message.EndsWith('.') && message.TrimEnd('.').IndexOf(". ", StringComparison.Ordinal) < 0, $"not one sentence: {message}");
        return error;
    }

    [Fact]
    public void BadInputs_GiveOneSentenceArgumentExceptions()
    {
        using var scope = NewDisposeScope();
        var block = new OdeBlock(new MlpDynamics(2, 8), Schemes.Get("DOPRI5"));
        var y0 = randn(3, 2);
        var ts = linspace(0, 1, 4);

        Assert.Contains("floating point", OneSentence(() => block.Trajectory(ones(3, 2, dtype: ScalarType.Int64), ts)).Message);
        Assert.Contains("floating point", OneSentence(() => block.Trajectory(y0, arange(4))).Message);
        Assert.Contains("[T] or [B, T] = [3, T]", OneSentence(() => block.Trajectory(y0, rand(2, 4))).Message);
        Assert.Contains("[T] or [B, T]", OneSentence(() => block.Trajectory(y0, rand(3, 4, 1))).Message);
        Assert.Contains("at least two times", OneSentence(() => block.Trajectory(y0, zeros(1))).Message);
        Assert.Contains("strictly", OneSentence(() => block.Trajectory(y0, tensor(new[] { 0f, 0.5f, 0.4f, 1f }))).Message);
        Assert.Contains("strictly", OneSentence(() => block.Trajectory(y0, tensor(new[] { 0f, 0.5f, 0.5f, 1f }))).Message);
        var perRow = linspace(0, 1, 4).expand(3, 4).clone();
        perRow[2, 2] = tensor(0.1f);
        Assert.Contains("row 2, index 2", OneSentence(() => block.Trajectory(y0, perRow)).Message);
        Assert.Contains("finite", OneSentence(() => block.Trajectory(y0, tensor(new[] { 0f, float.NaN, 1f }))).Message);
        Assert.Contains("finite", OneSentence(() => block.Trajectory(y0, tensor(new[] { 0f, 1f, float.PositiveInfinity }))).Message);
        var disposed = linspace(0, 1, 4);
        disposed.Dispose();
        Assert.Contains("disposed", OneSentence(() => block.Trajectory(y0, disposed)).Message);

        // Float64 input, float32 parameters: today a libtorch "mat1 and mat2 must have the same dtype" trace.
        var mixed = OneSentence(() => block.Trajectory(y0.to(ScalarType.Float64), ts));
        Assert.Contains("Float64", mixed.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("Float32", mixed.Message, StringComparison.OrdinalIgnoreCase);
        OneSentence(() => block.forward(y0.to(ScalarType.Float64)));
        block.GradientMode = GradientMode.Adjoint;
        OneSentence(() => block.forward(y0.to(ScalarType.Float64).requires_grad_(true)));
    }

    [Theory]
    [InlineData(Grid.Shared, false, "DOPRI5", 1)]
    [InlineData(Grid.SharedEnds, true, "DOPRI5", 1)]
    [InlineData(Grid.OwnSpans, false, "RKF45", 1)]
    [InlineData(Grid.MixedDirections, false, "BS32", 1)]
    [InlineData(Grid.OwnSpans, true, "Tsit5", 3)]
    public void Checkpointed_Trajectory_EqualsBackprop(Grid kind, bool backwards, string scheme, int every)
    {
        // Same steps, same arithmetic: each step's outputs (dense output with or without the end slope, Hermite for
        // BS32 without one) are replayed with the step that holds them.
        using var scope = NewDisposeScope();
        var options = SolverOptions.Adaptive(1e-8, 1e-10) with { InitialStep = 0.3 };
        var backprop = Block(GradientMode.Backprop, options);
        backprop.Scheme = Schemes.Get(scheme);
        var checkpointed = Block(GradientMode.Checkpointed, options);
        checkpointed.Scheme = Schemes.Get(scheme);
        checkpointed.CheckpointEvery = every;
        var y0 = randn(Rows, 3, dtype: ScalarType.Float64, generator: new TorchSharp.torch.Generator(5));
        var ts = MakeGrid(kind, backwards);

        var (gy0B, gpB) = Gradients(backprop, y0, ts);
        var (gy0C, gpC) = Gradients(checkpointed, y0, ts);
        Assert.True(checkpointed.LastBackward.Calls > 0, "the checkpointed backward pass replayed nothing");
        Assert.True(RelativeError(gy0C, gy0B) <= 1e-12, $"y0: {RelativeError(gy0C, gy0B):E2}");
        for (var p = 0; p < gpB.Length; p++)
        {
            Assert.True(RelativeError(gpC[p], gpB[p]) <= 1e-12, $"parameter {p}: {RelativeError(gpC[p], gpB[p]):E2}");
        }

        using var noGrad = no_grad();
        Assert.True(checkpointed.Trajectory(y0, ts).sub(backprop.Trajectory(y0, ts)).abs().max().item<double>() <= 1e-14);
    }

    [Fact]
    public void Checkpointed_WithOutputTimes_EqualsBackprop()
    {
        using var scope = NewDisposeScope();
        var options = SolverOptions.Adaptive(1e-8, 1e-10);
        var backprop = Block(GradientMode.Backprop, options);
        var checkpointed = Block(GradientMode.Checkpointed, options);
        backprop.OutputTimes = checkpointed.OutputTimes = [0.1, 0.5, 0.5, 1.0];
        var y0 = randn(Rows, 3, dtype: ScalarType.Float64, generator: new TorchSharp.torch.Generator(5));
        double Loss(OdeBlock block, out Tensor grad)
        {
            var x = y0.clone().requires_grad_(true);
            var value = Loss2(block.forward(x));
            value.backward();
            grad = x.grad!.clone();
            return value.item<double>();
        }

        static Tensor Loss2(Tensor ys) => ys.mul(linspace(0.5, 1.5, ys.numel(), dtype: ScalarType.Float64).reshape(ys.shape)).sum();

        Loss(backprop, out var gB);
        Loss(checkpointed, out var gC);
        Assert.True(RelativeError(gC, gB) <= 1e-12, $"y0: {RelativeError(gC, gB):E2}");
    }

    [SkippableFact]
    public void Cuda_TimesOnAnotherDevice_GiveOneSentence()
    {
        Skip.IfNot(cuda.is_available(), "No CUDA device (or the CPU-only TorchSharp backend).");
        using var scope = NewDisposeScope();
        var block = new OdeBlock(new MlpDynamics(2, 8), Schemes.Get("DOPRI5"));
        block.to(CUDA);
        var error = OneSentence(() => block.Trajectory(randn(3, 2, device: CUDA), linspace(0, 1, 4)));
        Assert.Contains("ts is on cpu", error.Message, StringComparison.OrdinalIgnoreCase);
        OneSentence(() => block.Trajectory(randn(3, 2), linspace(0, 1, 4)));
    }

    private sealed class Decay : OdeFunc
    {
        public Decay()
            : base(nameof(Decay)) => RegisterComponents();

        public override Tensor forward(Tensor t, Tensor y) => y.neg();
    }
}
