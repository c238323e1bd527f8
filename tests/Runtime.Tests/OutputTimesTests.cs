using NeuralOde.Solving;
using static TorchSharp.torch;

namespace NeuralOde.Tests;

/// <summary>States at requested times, shared <c>[T]</c> or per row <c>[B, T]</c>, by dense output or Hermite.</summary>
[Collection("Torch")]
public sealed class OutputTimesTests
{
    private static double MaxErrorAtTimes(string scheme, int steps, double[] times)
    {
        using var scope = NewDisposeScope();
        var y0 = ConvergenceOrderTests.Start();
        var solution = Ode.Solve(scheme, ConvergenceOrderTests.Dynamics, y0, 0.0, 2.0,
            SolverOptions.FixedSteps(steps) with { OutputTimes = tensor(times, dtype: ScalarType.Float64) });
        Assert.Equal([2L, times.Length, 1L], solution.Ys!.shape);
        var worst = 0.0;
        for (var j = 0; j < times.Length; j++)
        {
            var exact = ConvergenceOrderTests.Exact(times[j]);
            worst = Math.Max(worst, solution.Ys[.., j].sub(exact).abs().max().item<double>());
        }

        return worst;
    }

    // Many output times, most strictly inside steps for every step count used below, so that the error at one time
    // cancelling by accident cannot distort the measured order.
    private static readonly double[] Times = [0.0, .. Enumerable.Range(0, 24).Select(static k => 0.03 + (k * 0.083)), 2.0];

    [Theory]
    [InlineData("DOPRI5", 5)]   // its own continuous extension (order 4 interpolant, local error O(h⁵))
    [InlineData("Tsit5", 5)]
    [InlineData("RK4", 4)]      // cubic Hermite: local error O(h⁴), so min(p, 4)
    [InlineData("BS32", 3)]
    [InlineData("Heun", 2)]
    public void OutputTimes_ErrorAtThoseTimes_ConvergesAtTheSchemesOrder(string scheme, int expectedOrder)
    {
        int[] steps = [10, 20, 40, 80];
        var errors = steps.Select(n => MaxErrorAtTimes(scheme, n, Times)).ToArray();
        var slope = ConvergenceOrderTests.FitSlope(steps.Select(static n => Math.Log(2.0 / n)).ToArray(), errors.Select(static e => Math.Log(e)).ToArray());
        Assert.True(slope >= expectedOrder - 0.25, $"{scheme}: order at output times {slope:F2}; errors {string.Join(", ", errors.Select(static e => e.ToString("E2")))}");
    }

    [Fact]
    public void OutputTimes_PerRowAndAdaptive_MatchExactSolution()
    {
        using var scope = NewDisposeScope();
        var y0 = ConvergenceOrderTests.Start();
        var times = tensor(new[,] { { 0.0, 0.5, 1.0, 2.0 }, { 0.25, 0.25, 1.5, 1.75 } }, dtype: ScalarType.Float64);
        var solution = Ode.Solve("DOPRI5", ConvergenceOrderTests.Dynamics, y0, 0.0, 2.0, SolverOptions.Adaptive(1e-9, 1e-11) with { OutputTimes = times });
        Assert.True(solution.Succeeded);
        Assert.False(solution.Ys!.isnan().any().item<bool>());
        for (var row = 0; row < 2; row++)
        {
            for (var j = 0; j < 4; j++)
            {
                var tau = times[row, j].item<double>();
                var exact = ConvergenceOrderTests.Exact(tau)[row, 0].item<double>();
                Assert.True(Math.Abs(solution.Ys[row, j, 0].item<double>() - exact) < 1e-7, $"row {row}, t = {tau}");
            }
        }

        // The last output at t1 is the final state itself.
        Assert.True(solution.Ys[0, 3].eq(solution.Y[0]).all().item<bool>());
    }

    [Fact]
    public void OutputTimes_Backward_AreFilledInOrder()
    {
        using var scope = NewDisposeScope();
        var y0 = ones(1, 1, dtype: ScalarType.Float64);
        var times = tensor(new[] { 1.0, 0.6, 0.2, 0.0 }, dtype: ScalarType.Float64);
        var solution = Ode.Solve("Tsit5", (t, y) => y.neg(), y0, 1.0, 0.0, SolverOptions.Adaptive(1e-9, 1e-12) with { OutputTimes = times });
        for (var j = 0; j < 4; j++)
        {
            var tau = times[j].item<double>();
            Assert.True(Math.Abs(solution.Ys![0, j, 0].item<double>() - Math.Exp(1.0 - tau)) < 1e-7);
        }
    }
}
