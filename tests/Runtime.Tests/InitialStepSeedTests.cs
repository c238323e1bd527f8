using NeuralOde.Solving;
using static TorchSharp.torch;

namespace NeuralOde.Tests;

/// <summary>
/// First steps given per row (<see cref="SolverOptions.InitialSteps"/>, which the adjoint fills with the forward solve's
/// proposals) and the proposals a solve reports (<see cref="OdeSolution.NextSteps"/>).
/// </summary>
[Collection("Torch")]
public sealed class InitialStepSeedTests
{
    [Fact]
    public void Seeds_StartEachRowWithItsOwnStep_ClampedToItsSpan_WithoutAProbe()
    {
        using var scope = NewDisposeScope();
        var (observer, F) = Counted();
        var y0 = ones(4, 2, dtype: ScalarType.Float64);
        var t0 = tensor(new[] { 0.0, 0.0, 1.0, 0.0 }, dtype: ScalarType.Float64);
        var t1 = tensor(new[] { 1.0, 1.0, 0.0, 0.25 }, dtype: ScalarType.Float64);
        var options = SolverOptions.Adaptive(1e-6, 1e-9) with { InitialSteps = [0.01, -0.2, 0.05, 3.0] };

        using var solution = Ode.Solve(Schemes.Get("DOPRI5"), F, y0, t0, t1, options, observer);

        Assert.True(solution.Succeeded);
        Assert.Equal(1, observer.Calls); // the first slope, and no probe
        // Each attempted step is the clock's own increment: (t0 + dt) − t0 in float64 (for row 2, 1 − 0.05 rounds).
        Assert.Equal([0.01, 0.2, (1.0 - 0.05) - 1.0, 0.25], observer.Dt!);
    }

    [Fact]
    public void Seeds_WithANonFiniteEntry_FallBackToTheEstimate()
    {
        using var scope = NewDisposeScope();
        var (estimated, estimating) = Counted();
        var y0 = ones(2, 2, dtype: ScalarType.Float64);
        using (Ode.Solve(Schemes.Get("DOPRI5"), estimating, y0, 0.0, 1.0, SolverOptions.Adaptive(1e-6, 1e-9), estimated))
        {
        }

        var (observer, F) = Counted();
        var options = SolverOptions.Adaptive(1e-6, 1e-9) with { InitialSteps = [0.1, double.NaN] };
        using var solution = Ode.Solve(Schemes.Get("DOPRI5"), F, y0, 0.0, 1.0, options, observer);

        Assert.True(solution.Succeeded);
        Assert.Equal(2, observer.Calls); // the first slope and the estimate's probe
        Assert.Equal(estimated.Dt, observer.Dt);
    }

    [Fact]
    public void NextSteps_AreTheProposalsAContinuedSolveStartsWith()
    {
        using var scope = NewDisposeScope();
        var rates = tensor(new[] { 0.5, 2.0, 8.0 }, dtype: ScalarType.Float64).unsqueeze(1);
        Tensor F(Tensor t, Tensor y, Tensor rows) => y.flip(1).mul(rates.index_select(0, rows)).mul(tensor(new[] { -1.0, 1.0 }, dtype: ScalarType.Float64));
        var y0 = ones(3, 2, dtype: ScalarType.Float64);
        var options = SolverOptions.Adaptive(1e-7, 1e-9);

        using var first = Ode.Solve(Schemes.Get("DOPRI5"), F, y0, 0.0, 1.0, options, null);
        var proposals = first.NextSteps!;
        Assert.Equal(3, proposals.Length);
        Assert.All(proposals, p => Assert.InRange(p, 1e-4, 10.0));
        Assert.True(proposals[0] > proposals[1] && proposals[1] > proposals[2], $"faster rows propose smaller steps: {string.Join(", ", proposals)}");

        var observer = new FirstStep();
        using var continued = Ode.Solve(Schemes.Get("DOPRI5"), F, first.Y, 1.0, 2.0, options with { InitialSteps = proposals }, observer);
        Assert.True(continued.Succeeded);
        // Clamped to the span, and each the clock's own increment from t = 1.
        Assert.Equal(proposals.Select(p => p >= 1.0 ? 1.0 : (1.0 + p) - 1.0), observer.Dt!);
    }

    // dy/dt = −y, counting its calls, and an observer of the first step that reads the count.
    private static (FirstStep Observer, Func<Tensor, Tensor, Tensor, Tensor> F) Counted()
    {
        var calls = 0;
        var observer = new FirstStep { CallsBefore = () => calls };
        return (observer, (t, y, rows) =>
        {
            calls++;
            return y.neg();
        });
    }

    // Records the first step's attempted steps and the dynamics' calls before it.
    private sealed class FirstStep : IStepObserver
    {
        public double[]? Dt { get; private set; }

        public int Calls { get; private set; }

        public Func<int>? CallsBefore { get; set; }

        public void Starting(StepStart start)
        {
            if (Dt is null)
            {
                Dt = start.Dt.to_type(ScalarType.Float64).data<double>().ToArray();
                Calls = CallsBefore?.Invoke() ?? 0;
            }
        }

        public (Tensor SumOfSquares, long Count)? ErrorContribution(StepContext context) => null;

        public void Accepted(StepContext context, Tensor accept)
        {
        }
    }
}
