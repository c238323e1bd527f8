using NeuralOde.Solving;
using NeuralOde.Solving.Control;
using static TorchSharp.torch;

namespace NeuralOde.Tests;

/// <summary>The step-size controller on its own: its update, clamps and the rows it ends.</summary>
[Collection("Torch")]
public sealed class StepControllerTests
{
    private static Tensor Vector(params double[] values) => tensor(values, dtype: ScalarType.Float64);

    // One row, running forward from t = 0.5 (far from t1 = 10), planned and attempted 0.1.
    private static RowOutcome Outcome(double error, bool accept, double prev1 = 1, double prev2 = 1, double t = 0.5, double attempted = 0.1) =>
        new(error, double.IsFinite(error), double.IsFinite(error), accept, Running: true, attempted, attempted, t, T1: 10, Direction: 1, prev1, prev2);

    private static StepController Controller(StepSizeController settings, double dtMin = 0, double dtMax = double.PositiveInfinity, bool shared = false) =>
        new(settings, order: 5, errorOrder: 4, dtMin, dtMax, shared);

    [Fact]
    public void Integral_FollowsTheFormula()
    {
        var errors = new[] { 0.5, 0.9, 2.0 };
        for (var i = 0; i < 3; i++)
        {
            var decision = Controller(StepSizeController.Integral).Update(Outcome(errors[i], accept: i < 2));
            var factor = 0.9 * Math.Pow(errors[i], -1.0 / 5);
            if (i == 2)
            {
                factor = Math.Min(factor, 1.0);
            }

            Assert.Equal(0.1 * Math.Clamp(factor, 0.2, 10), decision.Dt, 15);
        }
    }

    [Fact]
    public void Pid_UsesBothPreviousErrorNorms()
    {
        var settings = new StepSizeController { PCoefficient = 0.4, ICoefficient = 0.3, DCoefficient = 0.1 };
        var decision = Controller(settings).Update(Outcome(0.5, true, prev1: 0.7, prev2: 0.3));

        // k = 5: β1 = (P + I + D)/k, β2 = −(P + 2D)/k, β3 = D/k.
        var expected = 0.9 * Math.Pow(0.5, -0.8 / 5) * Math.Pow(0.7, 0.6 / 5) * Math.Pow(0.3, -0.1 / 5);
        Assert.Equal(0.1 * expected, decision.Dt, 15);

        // The history shifts on an accepted step and stays on a rejected one.
        Assert.Equal(0.5, decision.Prev1);
        Assert.Equal(0.7, decision.Prev2);
        var rejected = Controller(settings).Update(Outcome(3.0, false, prev1: 0.7, prev2: 0.3));
        Assert.Equal(0.7, rejected.Prev1);
        Assert.Equal(0.3, rejected.Prev2);
    }

    [Fact]
    public void PI_WithZeroProportionalGain_IsIntegral()
    {
        double[] errors = [0.01, 0.4, 0.95, 1.5, 30.0];
        double[] previous = [0.2, 0.5, 0.9, 0.3, 0.6];
        var pi = Controller(StepSizeController.PI with { PCoefficient = 0, ICoefficient = 1 });
        var integral = Controller(StepSizeController.Integral);
        for (var i = 0; i < errors.Length; i++)
        {
            var outcome = Outcome(errors[i], accept: errors[i] <= 1, prev1: previous[i]);
            Assert.Equal(integral.Update(outcome).Dt, pi.Update(outcome).Dt);
        }
    }

    [Fact]
    public void Rejection_ShrinksByAtMostFactorMin_AndNeverGrows()
    {
        var controller = Controller(StepSizeController.Integral);
        Assert.Equal(0.1 * 0.2, controller.Update(Outcome(1e12, false)).Dt, 15);
        var barely = controller.Update(Outcome(1.0001, false)).Dt;
        Assert.True(barely <= 0.1 && barely >= 0.02);
        Assert.Equal(0.1 * 0.2, controller.Update(Outcome(double.NaN, false)).Dt, 15);
    }

    [Fact]
    public void Acceptance_GrowsByAtMostFactorMax_AndRespectsDtMax()
    {
        var controller = Controller(StepSizeController.Integral);
        Assert.Equal(1.0, controller.Update(Outcome(0.0, true)).Dt);
        Assert.Equal(1.0, controller.Update(Outcome(1e-30, true)).Dt);
        Assert.Equal(0.25, Controller(StepSizeController.Integral, dtMax: 0.25).Update(Outcome(0.0, true)).Dt);
    }

    [Fact]
    public void Underflow_SetsReachedDtMin()
    {
        // At t = 1e6 a step of 1e-10 is below 4 units of rounding (2.2e-10 · 4): the row cannot move its clock.
        var stalled = Controller(StepSizeController.Integral).Update(Outcome(2.0, false, t: 1e6, attempted: 1e-10));
        Assert.True(stalled.ReachedDtMin);
        Assert.False(stalled.NonFinite);

        // A rejected step at DtMin ends the row too; one above it does not.
        Assert.True(Controller(StepSizeController.Integral, dtMin: 0.1).Update(Outcome(2.0, false)).ReachedDtMin);
        Assert.False(Controller(StepSizeController.Integral, dtMin: 0.01).Update(Outcome(2.0, false)).ReachedDtMin);

        // A non-finite attempt that cannot shrink further is NonFinite instead.
        var bad = Controller(StepSizeController.Integral).Update(Outcome(double.NaN, false, t: 1e6, attempted: 1e-10));
        Assert.True(bad.NonFinite);
        Assert.False(bad.ReachedDtMin);
    }

    [Fact]
    public void Underflow_NotWhenTheStepReachesTheEnd()
    {
        // A tiny step that reaches t1 finishes the row: 1 ulp before t1 = 10 is not a stall.
        var t = Math.BitDecrement(10.0);
        var outcome = new RowOutcome(0.5, true, true, true, true, 1e-13, 1e-13, t, 10.0, 1.0, 1.0, 1.0);
        Assert.False(Controller(StepSizeController.Integral).Update(outcome).ReachedDtMin);
    }

    [Fact]
    public void SharedStepSize_OnlyTheNonFiniteRowsFailWhileOneFails()
    {
        // Row 0 is stuck with a finite step, row 1 stuck with a non-finite one: under a shared step only row 1 ends.
        RowOutcome[] steps =
        [
            new(2.0, true, true, false, true, 1e-10, 1e-10, 1e6, 1e7, 1, 1, 1),
            new(double.NaN, false, false, false, true, 1e-10, 1e-10, 1e6, 1e7, 1, 1, 1),
        ];
        var decisions = new RowDecision[2];
        Controller(StepSizeController.Integral, shared: true).Update(steps, decisions);
        Assert.False(decisions[0].ReachedDtMin);
        Assert.True(decisions[1].NonFinite);

        // Without a shared step both end.
        Controller(StepSizeController.Integral).Update(steps, decisions);
        Assert.True(decisions[0].ReachedDtMin);
        Assert.True(decisions[1].NonFinite);
    }

    [Fact]
    public void SharedNorm_IsTheRmsOverTheRunningFiniteRows()
    {
        double[] norms = [0.5, 2.0, 100.0];
        var finite = StepController.SharedNorm(norms, [true, true, true], [true, true, false], elementsPerRow: 3, extra: null);
        Assert.True(finite);
        Assert.All(norms, n => Assert.Equal(Math.Sqrt(((0.25 * 3) + (4.0 * 3)) / 6), n, 15));

        // A non-finite running row makes the batch step non-finite (so the shared step shrinks for every row).
        double[] again = [0.5, double.NaN];
        Assert.False(StepController.SharedNorm(again, [true, false], [true, true], 3, null));
    }

    [Fact]
    public void HostErrorNorm_MatchesTheTensorNorm_AndIsPositionIndependent()
    {
        using var scope = NewDisposeScope();
        var generator = new Random(7);
        foreach (var perRow in new[] { 1, 3, 8, 19 })
        {
            const int width = 37;
            float[] Random() => [.. Enumerable.Range(0, width * perRow).Select(_ => (float)((generator.NextDouble() * 2) - 1))];
            var error = Random();
            var y = Random();
            var y1 = Random();
            error[5 * perRow] = 0;
            y[5 * perRow] = y1[5 * perRow] = 0;
            foreach (var atol in new[] { 1e-6, 0.0 })
            {
                var tolerances = new Tolerances(1e-3, atol, null, null, PureRelative: atol == 0);
                var active = Enumerable.Repeat(true, width).ToArray();
                var norms = new double[width];
                var finite = new bool[width];
                RowNorms.ErrorNorms<float>(error, y, y1, tolerances, active, norms, finite);
                var shape = new long[] { width, perRow };
                var expected = StepController.ErrorNorm(tensor(error).view(shape), tensor(y).view(shape), tensor(y1).view(shape), tensor(1e-3f), tensor((float)atol), atol == 0);
                for (var row = 0; row < width; row++)
                {
                    Assert.Equal(expected[row].item<float>(), norms[row], 5e-7 * Math.Max(1, norms[row]));
                    Assert.True(finite[row]);

                    // The same row alone gets the same bits.
                    var alone = new double[1];
                    var aloneFinite = new bool[1];
                    var slice = new Range(row * perRow, (row + 1) * perRow);
                    RowNorms.ErrorNorms<float>(error.AsSpan(slice), y.AsSpan(slice), y1.AsSpan(slice), tolerances, [true], alone, aloneFinite);
                    Assert.Equal(BitConverter.DoubleToInt64Bits(norms[row]), BitConverter.DoubleToInt64Bits(alone[0]));
                }
            }
        }
    }

    [Fact]
    public void HostErrorNorm_FlagsEveryNonFiniteNewState()
    {
        foreach (var bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
        {
            for (var position = 0; position < 11; position++)
            {
                var error = new float[22];
                var y = new float[22];
                var y1 = new float[22];
                y1[11 + position] = bad;
                var norms = new double[2];
                var finite = new bool[2];
                RowNorms.ErrorNorms<float>(error, y, y1, new Tolerances(1e-3, 1e-6, null, null, false), [true, true], norms, finite);
                Assert.True(finite[0]);
                Assert.False(finite[1]);
            }
        }
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

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.Float64)]
    public void HostInitialStep_MatchesTheTensorEstimate_AndIsPositionIndependent(ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        const int width = 13;
        foreach (var perRow in new[] { 1, 5, 8, 19 })
        {
            var y = randn(new long[] { width, perRow }, dtype: ScalarType.Float64, generator: new Generator((ulong)perRow)).to(dtype);
            y[3].zero_();                          // d0 < 1e-5: the fixed first guess
            var rates = linspace(-3.0, 40.0, width, dtype: ScalarType.Float64).to(dtype).unsqueeze(1);
            Tensor F(Tensor t, Tensor state) => state.mul(rates.narrow(0, 0, state.shape[0])).add(state.square());
            var k1 = F(zeros(width, dtype: ScalarType.Float64), y);
            var t = Enumerable.Range(0, width).Select(static i => i * 0.25).ToArray();
            var t1 = t.Select(static (v, i) => i % 4 == 1 ? v - 2.0 : i == 7 ? v : v + 3.0).ToArray();   // backwards, empty
            var direction = t.Zip(t1, static (a, b) => b < a ? -1.0 : 1.0).ToArray();
            var rtol = Enumerable.Range(0, width).Select(static i => i % 2 == 0 ? 1e-3 : 1e-6).ToArray();
            var atol = Enumerable.Range(0, width).Select(static i => i % 3 == 0 ? 0.0 : 1e-8).ToArray();
            var running = t.Zip(t1, static (a, b) => a != b).ToArray();
            var controller = new StepController(new StepSizeController(), order: 5, errorOrder: 4, dtMin: 0, dtMax: double.PositiveInfinity, shared: false);

            var host = new double[width];
            Estimate(controller, y, k1, t, t1, direction, rtol, atol, running, host, (time, state) => F(time, state));
            var expected = controller.InitialStep(
                null,
                new InitialStepInput(y, k1, Vector(t), Vector(t), Vector(t1), Vector(direction), Vector(rtol).to(dtype), Vector(atol).to(dtype), tensor(running)),
                (time, state) => F(time, state)).data<double>().ToArray();
            for (var row = 0; row < width; row++)
            {
                // The same estimate: the sums run in another order (and in float64 on the host for float64 states).
                Assert.True(Math.Abs(host[row] - expected[row]) <= 2e-5 * Math.Abs(expected[row]), $"row {row} of {perRow}: {host[row]} vs {expected[row]}");

                // A row alone gets the same bits.
                var alone = new double[1];
                Tensor Row(Tensor x) => x.narrow(0, row, 1);
                Estimate(controller, Row(y), Row(k1), [t[row]], [t1[row]], [direction[row]], [rtol[row]], [atol[row]], [running[row]], alone, (time, state) => state.mul(Row(rates)).add(state.square()));
                Assert.Equal(BitConverter.DoubleToInt64Bits(host[row]), BitConverter.DoubleToInt64Bits(alone[0]));
            }
        }

        static void Estimate(StepController controller, Tensor y, Tensor k1, double[] t, double[] t1, double[] direction, double[] rtol, double[] atol, bool[] running, double[] steps, Func<Tensor, Tensor, Tensor> probe)
        {
            var rows = new InitialStepRows(t, t, t1, direction, rtol, atol, running);
            if (y.dtype == ScalarType.Float32)
            {
                controller.InitialStep<float>(null, y, k1, rows, steps, probe);
            }
            else
            {
                controller.InitialStep<double>(null, y, k1, rows, steps, probe);
            }
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SeededInitialStep_ClampsEachSeed_AndSharesTheSmallestRunningOne(bool shared)
    {
        var controller = new StepController(new StepSizeController(), order: 5, errorOrder: 4, dtMin: 1e-3, dtMax: 0.5, shared: shared);
        double[] t = [0.0, 1.0, 0.0, 0.0, 1e13];
        double[] t1 = [1.0, 0.0, 0.2, 0.0, 1e13 + 1];
        double[] direction = [1, -1, 1, 1, 1];
        bool[] running = [true, true, true, false, true];
        double[] seeds = [0.1, -2.0, 0.3, 5.0, 1e-12];
        var steps = new double[5];
        var rows = new InitialStepRows(t, t, t1, direction, new double[5], new double[5], running);

        controller.SeededInitialStep(seeds, rows, steps);

        // |seed| in [dtMin, dtMax], at most the span, at least twice the clock's resolution, signed by the direction;
        // under a shared step the smallest of the running rows' (the empty row does not count).
        double[] own = [0.1, -0.5, 0.2, 0.5, 1e13 * 2 * StepController.ClockSpacing];
        var smallest = Math.Min(Math.Min(own[0], -own[1]), Math.Min(own[2], own[4]));
        Assert.Equal(shared ? own.Select((_, i) => smallest * direction[i]) : own, steps);
    }

    [Fact]
    public void RowsFinite_FlagsEveryNonFiniteElement_AtEveryPosition()
    {
        foreach (var perRow in new[] { 1, 7, 8, 9, 33 })
        {
            foreach (var bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
            {
                for (var position = 0; position < perRow; position++)
                {
                    var x = Enumerable.Range(0, 3 * perRow).Select(static i => (float)(i - 5) * 1e30f).ToArray();
                    x[perRow + position] = bad;
                    var finite = new bool[3];
                    RowNorms.RowsFinite<float>(x, finite);
                    Assert.Equal([true, false, true], finite);
                }
            }
        }
    }
}
