using NeuralOde.Solving;
using static TorchSharp.torch;

namespace NeuralOde.Tests;

/// <summary>Every built-in scheme's observed order of convergence (float64, fixed steps) matches its declared order.</summary>
[Collection("Torch")]
public sealed class ConvergenceOrderTests
{
    // Two nonlinear or non-autonomous problems with known solutions, one per row:
    //   row 0: logistic y' = y(1 − y), y(0) = 0.2  →  y(t) = 1 / (1 + 4e^{−t})
    //   row 1: y' = cos(t)·y², y(0) = 0.5          →  y(t) = 1 / (2 − sin t)
    // The rows' indices tell which problem each row is: once a row finishes, the solver passes only the others.
    internal static Tensor Dynamics(Tensor t, Tensor y, Tensor rows)
    {
        using var scope = NewDisposeScope();
        var logistic = y.mul(y.neg().add(1.0));
        var riccati = y.square().mul(t.cos().unsqueeze(1));
        var isFirst = rows.remainder(2).eq(0).unsqueeze(1);
        return where(isFirst, logistic, riccati).MoveToOuterDisposeScope();
    }

    internal static Tensor Exact(double t) =>
        tensor(new[,] { { 1.0 / (1.0 + (4.0 * Math.Exp(-t))) }, { 1.0 / (2.0 - Math.Sin(t)) } }, dtype: ScalarType.Float64);

    internal static Tensor Start() => tensor(new[,] { { 0.2 }, { 0.5 } }, dtype: ScalarType.Float64);

    [Theory]
    [MemberData(nameof(TestSchemes.All), MemberType = typeof(TestSchemes))]
    public void FixedSteps_ObservedOrder_MatchesDeclaredOrder(string name)
    {
        var scheme = Schemes.Get(name);
        const double T = 2.0;

        // Step counts chosen so that the error stays well above float64 rounding for every order.
        int[] steps = scheme.Order switch
        {
            <= 2 => [32, 64, 128, 256],
            <= 4 => [16, 32, 64, 128],
            _ => [8, 16, 32, 64],
        };

        // The error is the largest over the whole trajectory (every 0.25, which every grid hits exactly), so that
        // an accidental cancellation of the error at one time cannot fake or hide an order.
        double[] times = [.. Enumerable.Range(1, 8).Select(static k => k * 0.25)];
        using var y0 = Start();
        var errors = new List<double>();
        foreach (var n in steps)
        {
            using var scope = NewDisposeScope();
            var solution = Ode.Solve(scheme, Dynamics, y0, 0.0, T, SolverOptions.FixedSteps(n) with { OutputTimes = tensor(times, dtype: ScalarType.Float64) });
            Assert.True(solution.Succeeded);
            var worst = times.Select((tau, j) => solution.Ys![.., j].sub(Exact(tau)).abs().max().item<double>()).Max();
            errors.Add(worst);
        }

        var slope = FitSlope(steps.Select(static n => Math.Log(T / n)).ToArray(), errors.Select(static e => Math.Log(e)).ToArray());
        Assert.True(
            Math.Abs(slope - scheme.Order) <= 0.2,
            $"{name}: observed order {slope:F3}, declared {scheme.Order}; errors {string.Join(", ", errors.Select(static e => e.ToString("E2")))}");
    }

    internal static double FitSlope(double[] x, double[] y)
    {
        var mx = x.Average();
        var my = y.Average();
        var num = x.Zip(y).Sum(p => (p.First - mx) * (p.Second - my));
        var den = x.Sum(v => (v - mx) * (v - mx));
        return num / den;
    }
}
