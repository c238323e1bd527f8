using System.Runtime.InteropServices;
using NeuralOde.Modules;
using NeuralOde.Solving;
using TorchSharp;
using static TorchSharp.torch;

namespace NeuralOde.Tests;

/// <summary>Gradients of <see cref="OdeBlock"/>: backprop and adjoint against finite differences and each other.</summary>
[Collection("Torch")]
public sealed partial class GradientTests
{
    private static (OdeBlock Block, Tensor Y0) Problem(GradientMode mode, SolverOptions options, int seed = 11, int rows = 5, bool timeInput = true)
    {
        random.manual_seed(seed);
        var dynamics = new MlpDynamics(3, 8, 2, Activation.Tanh, timeInput);
        dynamics.to(ScalarType.Float64);
        var block = new OdeBlock(dynamics, Schemes.Get("DOPRI5"), options, 0.0, 1.0, mode);
        var y0 = randn(rows, 3, dtype: ScalarType.Float64);
        return (block, y0);
    }

    private static Tensor Loss(Tensor y) => y.square().mean().mul(0.5);

    // Central finite differences of the loss along a few random directions in parameter and input space.
    private static void AssertMatchesFiniteDifferences(OdeBlock block, Tensor y0, double tolerance)
    {
        var parameters = block.parameters().ToArray();
        var x = y0.clone().requires_grad_(true);
        var loss = Loss(block.forward(x));
        loss.backward();
        var generator = new Generator(5);
        for (var trial = 0; trial < 3; trial++)
        {
            using var scope = NewDisposeScope();
            var directions = parameters.Select(p => randn(p.shape, dtype: p.dtype, generator: generator)).ToArray();
            var inputDirection = randn(y0.shape, dtype: y0.dtype, generator: generator);
            var analytic = parameters.Zip(directions).Sum(pd => pd.First.grad!.mul(pd.Second).sum().item<double>())
                + x.grad!.mul(inputDirection).sum().item<double>();

            const double Eps = 1e-5;
            double Shifted(double sign)
            {
                using var noGrad = no_grad();
                foreach (var (p, d) in parameters.Zip(directions))
                {
                    p.add_(d, sign * Eps);
                }

                var value = Loss(block.forward(y0.add(inputDirection, sign * Eps))).item<double>();
                foreach (var (p, d) in parameters.Zip(directions))
                {
                    p.add_(d, -sign * Eps);
                }

                return value;
            }

            var numeric = (Shifted(+1) - Shifted(-1)) / (2 * Eps);
            Assert.True(
                Math.Abs(analytic - numeric) <= tolerance * Math.Max(1.0, Math.Abs(numeric)),
                $"directional derivative: analytic {analytic:R}, finite differences {numeric:R}");
        }
    }

    [Fact]
    public void Backprop_FixedSteps_MatchesFiniteDifferences()
    {
        using var scope = NewDisposeScope();
        var (block, y0) = Problem(GradientMode.Backprop, SolverOptions.FixedSteps(20));

        // Fixed steps: the discrete solve is smooth in θ and y0, so FD checks backprop to FD accuracy.
        AssertMatchesFiniteDifferences(block, y0, 1e-7);
    }

    [Fact]
    public void Adjoint_TightTolerance_MatchesFiniteDifferences()
    {
        using var scope = NewDisposeScope();
        var (block, y0) = Problem(GradientMode.Adjoint, SolverOptions.FixedSteps(200));
        block.Adjoint = new AdjointOptions { RelativeTolerance = 1e-11, AbsoluteTolerance = 1e-12 };

        // The forward solve is fine-grained fixed-step; the adjoint integrates backwards adaptively.
        AssertMatchesFiniteDifferences(block, y0, 1e-6);
        Assert.True(block.LastBackward.Calls > 0);
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(true, true)]
    [InlineData(false, true)]
    public void Adjoint_AgreesWithBackprop_WithinTolerance(bool seminorm, bool shared)
    {
        using var scope = NewDisposeScope();
        var options = SolverOptions.Adaptive(1e-10, 1e-12);
        var (backprop, y0) = Problem(GradientMode.Backprop, options);
        var (adjoint, _) = Problem(GradientMode.Adjoint, options);
        adjoint.Adjoint = new AdjointOptions { Seminorm = seminorm, SharedStepSize = shared };

        var xb = y0.clone().requires_grad_(true);
        Loss(backprop.forward(xb)).backward();
        var xa = y0.clone().requires_grad_(true);
        Loss(adjoint.forward(xa)).backward();

        Assert.True(RelativeError(xa.grad!, xb.grad!) < 1e-7, $"dL/dy0 relative error {RelativeError(xa.grad!, xb.grad!):E2}");
        foreach (var (pa, pb) in adjoint.parameters().Zip(backprop.parameters()))
        {
            var error = RelativeError(pa.grad!, pb.grad!);
            Assert.True(error < 1e-7, $"dL/dθ relative error {error:E2}");
        }
    }

    [Fact]
    public void Adjoint_OutputTimes_MatchesBackprop()
    {
        using var scope = NewDisposeScope();
        var options = SolverOptions.Adaptive(1e-10, 1e-12);
        var (backprop, y0) = Problem(GradientMode.Backprop, options);
        var (adjoint, _) = Problem(GradientMode.Adjoint, options);
        backprop.OutputTimes = adjoint.OutputTimes = [0.0, 0.3, 0.6, 1.0];

        var xb = y0.clone().requires_grad_(true);
        var trajectoryB = backprop.forward(xb);
        Assert.Equal([5L, 4L, 3L], trajectoryB.shape);
        trajectoryB.pow(3).sum().backward();
        var xa = y0.clone().requires_grad_(true);
        adjoint.forward(xa).pow(3).sum().backward();

        Assert.True(RelativeError(xa.grad!, xb.grad!) < 1e-7);
        foreach (var (pa, pb) in adjoint.parameters().Zip(backprop.parameters()))
        {
            Assert.True(RelativeError(pa.grad!, pb.grad!) < 1e-7);
        }
    }

    [Fact]
    public void Adjoint_WithRejectedBackwardSteps_StillMatchesBackprop()
    {
        using var scope = NewDisposeScope();

        // Stronger dynamics and rows of very different sizes: the backward solve rejects steps, so the parameter
        // terms recorded for rejected rows must be taken out again.
        var (reference, y0) = Problem(GradientMode.Backprop, SolverOptions.Adaptive(1e-12, 1e-13), rows: 12);
        var (adjoint, _) = Problem(GradientMode.Adjoint, SolverOptions.Adaptive(1e-8, 1e-10), rows: 12);
        using (no_grad())
        {
            foreach (var (a, b) in adjoint.parameters().Zip(reference.parameters()))
            {
                a.mul_(4.0);
                b.mul_(4.0);
            }
        }

        adjoint.Adjoint = new AdjointOptions { RelativeTolerance = 1e-8, AbsoluteTolerance = 1e-10 };
        var scales = logspace(-2, 1, 12, dtype: ScalarType.Float64).unsqueeze(1);
        var x = y0.mul(scales);
        Loss(reference.forward(x.clone().requires_grad_(true))).backward();
        Loss(adjoint.forward(x.clone().requires_grad_(true))).backward();

        Assert.True(adjoint.LastBackward.MaxRejectedSteps > 0, "the backward solve rejected no step; the test does not exercise what it should");
        foreach (var (pa, pb) in adjoint.parameters().Zip(reference.parameters()))
        {
            var error = RelativeError(pa.grad!, pb.grad!);
            Assert.True(error < 1e-5, $"dL/dθ relative error {error:E2} with {adjoint.LastBackward.MaxRejectedSteps} rejected backward steps");
        }
    }

    [Fact]
    public void Seminorm_TakesFewerBackwardEvaluations_ThanFullNormAtSameAccuracy()
    {
        using var scope = NewDisposeScope();

        // Stronger dynamics and a tight tolerance, where the parameter channels' error does bind the full norm (at 1e-6
        // with the plain problem both norms take the same 3 steps). Both estimate their first steps: the norms alone
        // differ (started from the forward's proposals both take the same steps here).
        var options = SolverOptions.Adaptive(1e-8, 1e-10);
        var (reference, y0) = Strengthened(Problem(GradientMode.Backprop, SolverOptions.Adaptive(1e-12, 1e-13), rows: 16));
        var xr = y0.clone().requires_grad_(true);
        Loss(reference.forward(xr)).backward();
        var exact = reference.parameters().Select(static p => p.grad!.clone()).ToArray();

        var results = new Dictionary<bool, (long Calls, long Steps, double Error)>();
        foreach (var seminorm in new[] { true, false })
        {
            var (block, _) = Strengthened(Problem(GradientMode.Adjoint, options, rows: 16));
            block.Adjoint = new AdjointOptions { Seminorm = seminorm, SharedStepSize = true, FirstStepFromForward = false };
            Loss(block.forward(y0.clone().requires_grad_(true))).backward();
            var error = block.parameters().Zip(exact).Max(pe => RelativeError(pe.First.grad!, pe.Second));
            results[seminorm] = (block.LastBackward.Calls, block.LastBackward.MaxAcceptedSteps + block.LastBackward.MaxRejectedSteps, error);
        }

        Assert.True(results[true].Steps < results[false].Steps, $"seminorm {results[true].Steps} vs full {results[false].Steps} backward steps");
        Assert.True(results[true].Calls < results[false].Calls, $"seminorm {results[true].Calls} vs full {results[false].Calls} backward calls");

        // "At the same accuracy": both gradients are within the tolerance regime of each other.
        Assert.True(results[true].Error < 1e-4 && results[false].Error < 1e-4, $"errors {results[true].Error:E2} / {results[false].Error:E2}");

        static (OdeBlock Block, Tensor Y0) Strengthened((OdeBlock Block, Tensor Y0) problem)
        {
            using (no_grad())
            {
                foreach (var p in problem.Block.parameters())
                {
                    p.mul_(3.0);
                }
            }

            return problem;
        }
    }

    private static double RelativeError(Tensor actual, Tensor expected) =>
        actual.sub(expected).norm().item<double>() / Math.Max(expected.norm().item<double>(), 1e-300);

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);

    private static long ResidentBytes()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        _ = MallocTrim(0);
        var pages = long.Parse(File.ReadAllText("/proc/self/statm").Split(' ')[1]);
        return pages * Environment.SystemPageSize;
    }

    // Memory held after the forward pass (the recorded graph, if any): resident bytes and live managed tensors.
    private static (long Bytes, long Tensors) MemoryAfterForward(GradientMode mode, int steps)
    {
        random.manual_seed(3);
        var dynamics = new MlpDynamics(16, 64, 2);
        dynamics.to(ScalarType.Float64);
        var block = new OdeBlock(dynamics, Schemes.Get("RK4"), SolverOptions.FixedSteps(steps), 0, 1, mode);
        block.Adjoint = new AdjointOptions { RelativeTolerance = 1e-3, AbsoluteTolerance = 1e-6 };
        var y0 = randn(512, 16, dtype: ScalarType.Float64).requires_grad_(true);
        var bytesBefore = ResidentBytes();
        var tensorsBefore = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        (long, long) held;
        using (var scope = NewDisposeScope())
        {
            var loss = Loss(block.forward(y0));
            held = (ResidentBytes() - bytesBefore, DisposeScopeManager.Statistics.ThreadTotalLiveCount - tensorsBefore);
            loss.backward();
        }

        return held;
    }

    [Fact]
    public void Adjoint_MemoryDoesNotGrowWithSteps_WhileBackpropDoes()
    {
        // Warm up the allocator and libtorch so that one-off costs don't count.
        MemoryAfterForward(GradientMode.Backprop, 10);
        MemoryAfterForward(GradientMode.Adjoint, 10);

        var adjointFew = MemoryAfterForward(GradientMode.Adjoint, 10);
        var adjointMany = MemoryAfterForward(GradientMode.Adjoint, 100);
        var backpropFew = MemoryAfterForward(GradientMode.Backprop, 10);
        var backpropMany = MemoryAfterForward(GradientMode.Backprop, 100);

        // The adjoint keeps the same few tensors whatever the number of steps...
        Assert.Equal(adjointFew.Tensors, adjointMany.Tensors);

        // ...while backprop's recorded graph (about 2 MiB of activations a step here) grows with them. Resident
        // memory is a coarse measure (allocator and managed-heap noise of a few MiB), so the sizes make the
        // difference large.
        const long MiB = 1 << 20;
        Assert.True(
            backpropMany.Bytes > 5 * Math.Max(backpropFew.Bytes, MiB) && backpropMany.Bytes > 100 * MiB,
            $"backprop: {backpropFew.Bytes / MiB} MiB at 10 steps, {backpropMany.Bytes / MiB} MiB at 100");
        Assert.True(
            adjointMany.Bytes < backpropMany.Bytes / 10,
            $"adjoint held {adjointMany.Bytes / MiB} MiB after 100 steps, backprop {backpropMany.Bytes / MiB} MiB");
    }
}
