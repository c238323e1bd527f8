using NeuralOde.Solving;
using NeuralOde.Stepping;
using NeuralOde.Tableaux;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace NeuralOde.Tests;

/// <summary>
/// What one iteration of the solver loop costs besides the dynamics, counted rather than timed: the tensors it
/// creates (every operation that returns a new tensor; TorchSharp's dispose-scope statistics) and the times it
/// reads per-row values back to decide. These bound the loop's overhead where the network is cheap, so a change
/// that adds operations to every iteration fails here.
/// </summary>
[Collection("Torch")]
public sealed class LoopCostTests(ITestOutputHelper output)
{
    private static long Created()
    {
        var statistics = DisposeScopeManager.Statistics;
        return statistics.CreatedInScopeCount + statistics.CreatedOutsideScopeCount;
    }

    // Tensors created per iteration by the solver itself (the dynamics' own are subtracted), and host reads per iteration.
    private (double Tensors, double Reads, long Iterations) Measure(RungeKuttaScheme scheme, SolverOptions options, ScalarType dtype = ScalarType.Float32)
    {
        using var scope = NewDisposeScope();
        var y0 = randn(256, 16, dtype: dtype, generator: new Generator(3));
        var a = randn(16, 16, dtype: dtype, generator: new Generator(4)).mul_(0.3);
        long inDynamics = 0;
        Tensor F(Tensor t, Tensor y)
        {
            var before = Created();
            var slope = y.matmul(a).sub_(y);
            inDynamics += Created() - before;
            return slope;
        }

        var start = Created();
        using var solution = Ode.Solve(scheme, F, y0, 0.0, 5.0, options);
        var solver = Created() - start - inDynamics;
        Assert.True(solution.Succeeded);
        var iterations = solution.Stats.Iterations;
        output.WriteLine($"{scheme.Name}: {iterations} iterations, {(double)solver / iterations:F1} tensors and {(double)solution.Stats.HostReads / iterations:F2} host reads per iteration (the dynamics: {(double)inDynamics / solution.Stats.Calls:F1} per call)");
        return ((double)solver / iterations, (double)solution.Stats.HostReads / iterations, iterations);
    }

    [Fact]
    public void Dopri5_OneHostReadPerIteration_AndFewTensorsBesidesTheStep()
    {
        var (tensors, reads, iterations) = Measure(DormandPrince54.Scheme, new SolverOptions { RelativeTolerance = 1e-6, AbsoluteTolerance = 1e-8 });
        Assert.True(iterations > 10);
        Assert.Equal(1.0, reads);

        // Measured 30.4, most of them the generated step's own (stage states, scaled slopes, stage times, the
        // solution and the error); the loop adds the step's time and size in the state's dtype and a few views.
        // The same solve created 111.7 per iteration before the control pass moved to the host.
        Assert.True(tensors <= 34, $"{tensors:F1} tensors per iteration");
    }

    [Fact]
    public void Rkf45_ReadsItsEndSlopeOnce_Besides()
    {
        // The last step needs no end slope (no outputs), so it reads once: 2 − 1/iterations.
        var (_, reads, iterations) = Measure(Fehlberg45.Scheme, new SolverOptions { RelativeTolerance = 1e-6, AbsoluteTolerance = 1e-8 });
        Assert.Equal(2.0 - (1.0 / iterations), reads, 12);
    }

    [Fact]
    public void FixedSteps_OneHostReadPerIteration()
    {
        var (_, reads, iterations) = Measure(DormandPrince54.Scheme, new SolverOptions { Steps = 20 });
        Assert.Equal(20, iterations);
        Assert.Equal(1.0, reads);
    }

    [Theory]
    [InlineData("DOPRI5", false)]
    [InlineData("RKF45", false)]
    [InlineData("DOPRI5", true)]
    public void ControlOnDevice_DecidesLikeTheHostPass(string scheme, bool fixedSteps)
    {
        // The reduction another device runs (tensor ops, then one copy), forced on the CPU: the same statuses, steps
        // and states as the host pass, including a row that blows up, per-row tolerances and pure relative control.
        using var scope = NewDisposeScope();
        var y0 = tensor(new double[,] { { 1.0, 0.5 }, { 0.0, 0.0 }, { 2.0, -1.0 }, { 0.3, 0.1 } }, dtype: ScalarType.Float64);
        var rate = tensor(new[] { -1.0, 0.5, 1.0, 40.0 }, dtype: ScalarType.Float64);
        Tensor F(Tensor t, Tensor y, Tensor rows) => y.mul(rate.index_select(0, rows).unsqueeze(1)).add(y.square().mul(rows.eq(3).unsqueeze(1)));
        var options = fixedSteps
            ? new SolverOptions { Steps = 40 }
            : new SolverOptions
            {
                RelativeToleranceRows = tensor(new[] { 1e-6, 1e-4, 1e-8, 1e-6 }, dtype: ScalarType.Float64),
                AbsoluteToleranceRows = tensor(new[] { 1e-9, 0.0, 1e-9, 1e-9 }, dtype: ScalarType.Float64),
            };
        using var host = Ode.Solve(scheme, F, y0, 0.0, 2.0, options);
        using var device = Ode.Solve(scheme, F, y0, 0.0, 2.0, options with { ControlOnDevice = true });
        Assert.Equal(host.Statuses, device.Statuses);
        Assert.Contains(SolverStatus.Success, host.Statuses);
        Assert.NotEqual(SolverStatus.Success, host.Statuses[3]);
        Assert.True(host.Stats.AcceptedSteps.eq(device.Stats.AcceptedSteps).all().item<bool>());
        Assert.True(host.Stats.RejectedSteps.eq(device.Stats.RejectedSteps).all().item<bool>());
        var finite = host.Y.isfinite().all(1);
        Assert.True(host.Y[finite].allclose(device.Y[finite], rtol: 1e-9, atol: 1e-12));
    }
}
