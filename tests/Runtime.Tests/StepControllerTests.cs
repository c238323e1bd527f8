using NeuralOde.Solving;
using NeuralOde.Solving.Control;
using TorchSharp;
using static TorchSharp.torch;

namespace NeuralOde.Tests;

/// <summary>The step-size controller on its own: its update, clamps and the rows it ends.</summary>
[Collection("Torch")]
public sealed class StepControllerTests
{
    private static Tensor Vector(params double[] values) => tensor(values, dtype: ScalarType.Float64);

    private static Tensor Flags(params bool[] values) => tensor(values);

    // One row per error norm, every row running forward from t = 0.5 (far from t1 = 10), planned and attempted 0.1.
    private static StepOutcome Outcome(double[] errors, bool[] accept, double[]? prev1 = null, double[]? prev2 = null, double t = 0.5, double attempted = 0.1)
    {
        var n = errors.Length;
        var norms = Vector(errors);
        var finite = norms.isfinite();
        return new StepOutcome(
            norms,
            finite,
            finite,
            Flags(accept),
            ones(n, dtype: ScalarType.Bool),
            full(n, attempted, dtype: ScalarType.Float64),
            full(n, attempted, dtype: ScalarType.Float64),
            full(n, t, dtype: ScalarType.Float64),
            full(n, 10.0, dtype: ScalarType.Float64),
            ones(n, dtype: ScalarType.Float64),
            prev1 is null ? ones(n, dtype: ScalarType.Float64) : Vector(prev1),
            prev2 is null ? ones(n, dtype: ScalarType.Float64) : Vector(prev2));
    }

    private static StepController Controller(StepSizeController settings, double dtMin = 0, double dtMax = double.PositiveInfinity) =>
        new(settings, order: 5, errorOrder: 4, dtMin, dtMax, shared: false);

    [Fact]
    public void Integral_FollowsTheFormula()
    {
        using var scope = NewDisposeScope();
        var errors = new[] { 0.5, 0.9, 2.0 };
        var decision = Controller(StepSizeController.Integral).Update(Outcome(errors, [true, true, false]));
        var dt = decision.Dt.data<double>().ToArray();
        for (var i = 0; i < 3; i++)
        {
            var factor = 0.9 * Math.Pow(errors[i], -1.0 / 5);
            if (i == 2)
            {
                factor = Math.Min(factor, 1.0);
            }

            Assert.Equal(0.1 * Math.Clamp(factor, 0.2, 10), dt[i], 15);
        }
    }

    [Fact]
    public void Pid_UsesBothPreviousErrorNorms()
    {
        using var scope = NewDisposeScope();
        var settings = new StepSizeController { PCoefficient = 0.4, ICoefficient = 0.3, DCoefficient = 0.1 };
        var decision = Controller(settings).Update(Outcome([0.5], [true], prev1: [0.7], prev2: [0.3]));

        // k = 5: β1 = (P + I + D)/k, β2 = −(P + 2D)/k, β3 = D/k.
        var expected = 0.9 * Math.Pow(0.5, -0.8 / 5) * Math.Pow(0.7, 0.6 / 5) * Math.Pow(0.3, -0.1 / 5);
        Assert.Equal(0.1 * expected, decision.Dt[0].item<double>(), 15);

        // The history shifts on an accepted step and stays on a rejected one.
        Assert.Equal(0.5, decision.Prev1[0].item<double>());
        Assert.Equal(0.7, decision.Prev2[0].item<double>());
        var rejected = Controller(settings).Update(Outcome([3.0], [false], prev1: [0.7], prev2: [0.3]));
        Assert.Equal(0.7, rejected.Prev1[0].item<double>());
        Assert.Equal(0.3, rejected.Prev2[0].item<double>());
    }

    [Fact]
    public void PI_WithZeroProportionalGain_IsIntegral()
    {
        using var scope = NewDisposeScope();
        var outcome = Outcome([0.01, 0.4, 0.95, 1.5, 30.0], [true, true, true, false, false], prev1: [0.2, 0.5, 0.9, 0.3, 0.6]);
        var pi = Controller(StepSizeController.PI with { PCoefficient = 0, ICoefficient = 1 }).Update(outcome);
        var integral = Controller(StepSizeController.Integral).Update(outcome);
        Assert.True(pi.Dt.eq(integral.Dt).all().item<bool>());
    }

    [Fact]
    public void Rejection_ShrinksByAtMostFactorMin_AndNeverGrows()
    {
        using var scope = NewDisposeScope();
        var decision = Controller(StepSizeController.Integral).Update(Outcome([1e12, 1.0001, double.NaN], [false, false, false]));
        var dt = decision.Dt.data<double>().ToArray();
        Assert.Equal(0.1 * 0.2, dt[0], 15);
        Assert.True(dt[1] <= 0.1 && dt[1] >= 0.02);
        Assert.Equal(0.1 * 0.2, dt[2], 15);
    }

    [Fact]
    public void Acceptance_GrowsByAtMostFactorMax_AndRespectsDtMax()
    {
        using var scope = NewDisposeScope();
        var decision = Controller(StepSizeController.Integral).Update(Outcome([0.0, 1e-30], [true, true]));
        Assert.True(decision.Dt.eq(1.0).all().item<bool>());
        var capped = Controller(StepSizeController.Integral, dtMax: 0.25).Update(Outcome([0.0], [true]));
        Assert.Equal(0.25, capped.Dt[0].item<double>());
    }

    [Fact]
    public void Underflow_SetsReachedDtMin()
    {
        using var scope = NewDisposeScope();

        // At t = 1e6 a step of 1e-10 is below 4 units of rounding (2.2e-10 · 4): the row cannot move its clock.
        var stalled = Controller(StepSizeController.Integral).Update(Outcome([2.0], [false], t: 1e6, attempted: 1e-10));
        Assert.True(stalled.ReachedDtMin[0].item<bool>());
        Assert.False(stalled.NonFinite[0].item<bool>());

        // A rejected step at DtMin ends the row too; one above it does not.
        var atMinimum = Controller(StepSizeController.Integral, dtMin: 0.1).Update(Outcome([2.0], [false]));
        Assert.True(atMinimum.ReachedDtMin[0].item<bool>());
        var above = Controller(StepSizeController.Integral, dtMin: 0.01).Update(Outcome([2.0], [false]));
        Assert.False(above.ReachedDtMin[0].item<bool>());

        // A non-finite attempt that cannot shrink further is NonFinite instead.
        var bad = Controller(StepSizeController.Integral).Update(Outcome([double.NaN], [false], t: 1e6, attempted: 1e-10));
        Assert.True(bad.NonFinite[0].item<bool>());
        Assert.False(bad.ReachedDtMin[0].item<bool>());
    }

    [Fact]
    public void Underflow_NotWhenTheStepReachesTheEnd()
    {
        using var scope = NewDisposeScope();

        // A tiny step that reaches t1 finishes the row: 1 ulp before t1 = 10 is not a stall.
        var n = 1;
        var t = Math.BitDecrement(10.0);
        var outcome = new StepOutcome(
            Vector(0.5), Flags(true), Flags(true), Flags(true), ones(n, dtype: ScalarType.Bool),
            Vector(1e-13), Vector(1e-13), Vector(t), Vector(10.0), Vector(1.0), Vector(1.0), Vector(1.0));
        var decision = Controller(StepSizeController.Integral).Update(outcome);
        Assert.False(decision.ReachedDtMin[0].item<bool>());
    }

    [Fact]
    public void ErrorNorm_IsTheRmsOfTheScaledError()
    {
        using var scope = NewDisposeScope();
        var error = tensor(new[,] { { 1e-4, -2e-4 }, { 0.0, 0.0 } }, dtype: ScalarType.Float64);
        var y = tensor(new[,] { { 1.0, -3.0 }, { 0.0, 0.0 } }, dtype: ScalarType.Float64);
        var y1 = tensor(new[,] { { 2.0, -1.0 }, { 0.0, 0.0 } }, dtype: ScalarType.Float64);
        var rtol = Vector(1e-3, 1e-3).unsqueeze(1);
        var atol = Vector(1e-6, 0).unsqueeze(1);
        var norm = StepController.ErrorNorm(error, y, y1, rtol, atol, pureRelative: true).data<double>().ToArray();
        var first = Math.Sqrt((Math.Pow(1e-4 / (1e-6 + 2e-3), 2) + Math.Pow(2e-4 / (1e-6 + 3e-3), 2)) / 2);
        Assert.Equal(first, norm[0], 15);
        Assert.Equal(0.0, norm[1]);
    }
}
