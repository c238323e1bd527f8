using NeuralOde.Solving;
using NeuralOde.Stepping;
using NeuralOde.Tableaux;
using static TorchSharp.torch;

namespace NeuralOde.Tests;

/// <summary>
/// Options that no other test exercised in a successful solve, each checked by what the solver does (the times at
/// which it evaluates the dynamics, the rows it evaluates, its step sequence), not only by the accuracy it reaches.
/// </summary>
/// <remarks>
/// The step sequence of an adaptive solve is read from the dynamics' calls: DOPRI5 is FSAL, so after the first call
/// f(t0, y0) (and the probe of the automatic first step) every attempt makes six calls, at t + cᵢ·h for the nodes
/// c₂…c₇ = 1/5, 3/10, 4/5, 8/9, 1, 1; the step h is (t₆ − t₂)/(1 − 1/5) and its start t₆ − h.
/// </remarks>
[Collection("Torch")]
public sealed class SolverOptionCoverageTests
{
    private const int CallsPerAttempt = 6;

    private static Tensor Decay(Tensor t, Tensor y) => y.neg();

    [Fact]
    public void DtMax_NoAttemptedStepIsLongerThanIt()
    {
        using var y0 = ones(1, 1, dtype: ScalarType.Float64);
        var loose = SolverOptions.Adaptive(1e-3, 1e-6);
        using (var unclamped = Ode.Solve("DOPRI5", Decay, y0, 0.0, 2.0, loose))
        {
            // Without the clamp the solve takes far fewer, longer steps: the clamp below is what decides.
            Assert.True(unclamped.Stats.AcceptedSteps[0].item<long>() < 10);
        }

        var recorder = new Recorder();
        using var solution = Ode.Solve("DOPRI5", recorder.Wrap(Decay), y0, 0.0, 2.0, loose with { DtMax = 0.05 });
        Assert.True(solution.Succeeded);
        var attempts = recorder.Attempts(startCalls: 2);
        Assert.Equal(solution.Stats.AcceptedSteps[0].item<long>() + solution.Stats.RejectedSteps[0].item<long>(), attempts.Count);
        Assert.All(attempts, static a => Assert.True(Math.Abs(a.Dt) <= 0.05 * (1 + 1e-12), $"a step of {a.Dt:R} from t = {a.T:R}"));
        Assert.True(solution.Stats.AcceptedSteps[0].item<long>() >= 40, "2 / DtMax = 40 steps at least");
        Assert.True(Math.Abs(solution.Y[0, 0].item<double>() - Math.Exp(-2)) < 1e-6);
    }

    [Fact]
    public void InitialStep_IsTheFirstStepsSize_WithoutAProbe()
    {
        const double H0 = 0.0123;
        using var y0 = ones(2, 1, dtype: ScalarType.Float64);
        var recorder = new Recorder();
        using var solution = Ode.Solve("DOPRI5", recorder.Wrap(Decay), y0, 0.0, 1.0, SolverOptions.Adaptive(1e-6, 1e-9) with { InitialStep = H0 });
        Assert.True(solution.Succeeded);

        // No probe evaluation: the first call is f(t0, y0), the second the first step's second stage at c₂·h0.
        Assert.Equal(1 + (CallsPerAttempt * (solution.Stats.AcceptedSteps[0].item<long>() + solution.Stats.RejectedSteps[0].item<long>())), solution.Stats.Calls);
        Assert.Equal(0.0, recorder.Times[0][0]);
        Assert.True(Math.Abs(recorder.Times[1][0] - (H0 / 5)) <= 1e-18, $"second call at {recorder.Times[1][0]:R}, expected h0/5 = {H0 / 5:R}");
        Assert.True(Math.Abs(recorder.Times[5][0] - H0) <= 1e-17, $"sixth call at {recorder.Times[5][0]:R}, expected h0 = {H0:R}");
        var first = recorder.Attempts(startCalls: 1)[0];
        Assert.Equal(H0, first.Dt, 15);

        // The second step follows the controller, so it differs from the given one.
        Assert.NotEqual(H0, recorder.Attempts(startCalls: 1)[1].Dt, 6);
    }

    // Found by this test (not in issue 12's list): a given InitialStep is used as it is, outside [DtMin, DtMax]
    // (BatchSolver.InitialStep returns min(InitialStep, span) without the clamp the automatic step gets): with
    // InitialStep = 0.5 and DtMax = 0.01, DOPRI5 accepts a first step of 0.5 (its second stage at t = 0.1 = 0.5/5),
    // then takes 50 steps of 0.01.
    [Fact]
    public void InitialStep_AboveDtMax_IsClampedToDtMax()
    {
        using var y0 = ones(1, 1, dtype: ScalarType.Float64);
        var recorder = new Recorder();
        using var solution = Ode.Solve("DOPRI5", recorder.Wrap(Decay), y0, 0.0, 1.0, SolverOptions.Adaptive(1e-3, 1e-6) with { InitialStep = 0.5, DtMax = 0.01 });
        Assert.True(solution.Succeeded);
        Assert.All(recorder.Attempts(startCalls: 1), static a => Assert.True(Math.Abs(a.Dt) <= 0.01 * (1 + 1e-12), $"a step of {a.Dt:R} from t = {a.T:R}"));
    }

    // Found by SolverPropertyTests (seed evjTdwGHO7T1, 1,200 cases; not in issue 12's list): Hairer–Nørsett–Wanner's
    // first guess 0.01·‖y0‖/‖f(t0, y0)‖ is tiny for a state near 0 with a large slope (here 1e-20), the automatic
    // step is at most 100× that, and since the float64 clock landed, a step below the clock's spacing at t0 (1.1e-13
    // at t = 1000) ends the row at once: ReachedDtMin at t0 after no step, on a problem any step size below 0.1 solves.
    [Fact]
    public void InitialStep_Automatic_NearZeroStateWithALargeSlopeAtAnOffset_Succeeds()
    {
        using var y0 = full(1, 1, 1e-15, dtype: ScalarType.Float64);
        using var solution = Ode.Solve("DOPRI5", static (t, y) => full_like(y, 1000.0), y0, 1000.0, 1000.1, SolverOptions.Adaptive(1e-9, 1e-12));
        Assert.Equal([SolverStatus.Success], solution.Statuses);
        Assert.True(Math.Abs(solution.Y[0, 0].item<double>() - 100.0) <= 1e-9 * 100);
    }

    [Theory]
    [InlineData(0.0, 1.0)]
    [InlineData(1.0, 0.0)]
    public void FixedDt_StepsOfDt_ThenAShorterLastStepLandingOnT1(double t0, double t1)
    {
        // RK4 (c = 0, 1/2, 1/2, 1; not FSAL) with dt = 0.3 over a span of 1: steps 0.3, 0.3, 0.3 and 0.1.
        using var y0 = ones(1, 1, dtype: ScalarType.Float64);
        var recorder = new Recorder();
        using var solution = Ode.Solve("RK4", recorder.Wrap(Decay), y0, t0, t1, SolverOptions.FixedDt(0.3));
        Assert.True(solution.Succeeded);
        Assert.Equal(4, solution.Stats.AcceptedSteps[0].item<long>());
        Assert.Equal(t1, solution.T[0].item<double>());

        var sign = Math.Sign(t1 - t0);
        double[] grid = [t0, t0 + (sign * 0.3), t0 + (sign * 0.6), t0 + (sign * 0.3 * 3), t1];
        var expected = new List<double> { t0 };
        for (var k = 0; k < 4; k++)
        {
            var h = grid[k + 1] - grid[k];
            expected.AddRange([grid[k] + (h / 2), grid[k] + (h / 2), grid[k] + h]);
            if (k < 3)
            {
                expected.Add(grid[k + 1]); // the slope at the new state, the next step's first stage
            }
        }

        var observed = recorder.Times.Select(static t => t[0]).ToArray();
        Assert.Equal(expected.Count, observed.Length);
        for (var i = 0; i < observed.Length; i++)
        {
            Assert.True(Math.Abs(observed[i] - expected[i]) <= 1e-15, $"call {i} at t = {observed[i]:R}, expected {expected[i]:R}");
        }

        // The last step is 0.1 long: y = Π R(−hₖ) with RK4's R(z) = 1 + z + z²/2 + z³/6 + z⁴/24.
        static double R(double z) => 1 + z + (z * z / 2) + (z * z * z / 6) + (z * z * z * z / 24);
        var product = Enumerable.Range(0, 4).Aggregate(1.0, (p, k) => p * R(-(grid[k + 1] - grid[k])));
        Assert.True(Math.Abs(solution.Y[0, 0].item<double>() - product) <= 1e-15 * product, $"y = {solution.Y[0, 0].item<double>():R}, expected {product:R}");
    }

    [Fact]
    public void AbsoluteToleranceRows_LooserRowsTakeFewerSteps_EachMeetsItsOwn_AndEqualsASoloSolveWithThatTolerance()
    {
        // y' = −y from y0 = 1e-3: |y| ≤ 1e-3, so with rtol 1e-12 the scale is dominated by atol in every row.
        double[] atols = [1e-6, 1e-9, 1e-12];
        using var y0 = full(3, 1, 1e-3, dtype: ScalarType.Float64);
        using var atolRows = tensor(atols, dtype: ScalarType.Float64);
        var options = new SolverOptions { RelativeTolerance = 1e-12, AbsoluteToleranceRows = atolRows, InitialStep = 1e-3 };
        using var solution = Ode.Solve("DOPRI5", Decay, y0, 0.0, 2.0, options);
        Assert.True(solution.Succeeded);
        var steps = solution.Stats.AcceptedSteps.data<long>().ToArray();
        Assert.True(steps[0] < steps[1] && steps[1] < steps[2], $"steps {string.Join(", ", steps)}");

        var exact = 1e-3 * Math.Exp(-2);
        for (var row = 0; row < 3; row++)
        {
            // Within the bound SolverPropertyTests measured for DOPRI5: tolerance scale × accepted steps.
            var error = Math.Abs(solution.Y[row, 0].item<double>() - exact);
            Assert.True(error <= (atols[row] + (1e-12 * 1e-3)) * steps[row], $"row {row}: error {error:E2} for atol {atols[row]:E0} over {steps[row]} steps");

            // And the row is, bit for bit, the row solved alone with that atol as a scalar.
            using var alone = Ode.Solve("DOPRI5", Decay, y0[row].unsqueeze(0), 0.0, 2.0, options with { AbsoluteToleranceRows = null, AbsoluteTolerance = atols[row] });
            Assert.Equal(alone.Stats.AcceptedSteps[0].item<long>(), steps[row]);
            Assert.True(alone.Y[0].eq(solution.Y[row]).all().item<bool>(), $"row {row} differs from its solo solve");
        }
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.3)]
    [InlineData(0.5)]
    [InlineData(0.8)]
    [InlineData(1.0)]
    public void CompactionThreshold_TheWorkSetShrinksOnlyOnceTheRunningFractionFallsBelowIt(double threshold)
    {
        // Ten rows of y' = −λy with λ from 0.1 to 10: they need different numbers of steps, so they finish one by
        // one. A given first step keeps every iteration at six calls.
        const int Rows = 10;
        using var lambda = logspace(-1, 1, Rows, dtype: ScalarType.Float64);
        using var y0 = ones(Rows, 2, dtype: ScalarType.Float64);
        Tensor F(Tensor t, Tensor y, Tensor rows) => y.mul(lambda.index_select(0, rows).unsqueeze(1)).neg();
        var options = SolverOptions.Adaptive(1e-8, 1e-10) with { InitialStep = 1e-3 };

        // Each row's number of attempts (the same in every mode: rows are independent).
        long[] attempts;
        using (var masked = Ode.Solve(DormandPrince54.Scheme, F, y0, 0.0, 3.0, options with { Compaction = CompactionMode.Never }))
        {
            attempts = [.. masked.Stats.AcceptedSteps.add(masked.Stats.RejectedSteps).data<long>().ToArray()];
        }

        Assert.True(attempts.Distinct().Count() >= 5, $"the rows should finish at different times: {string.Join(", ", attempts)}");

        // Iteration k runs the rows with more than k attempts; Auto compacts when fewer than threshold × width run.
        var expectedWidths = new List<long>();
        var expectedRows = new List<long[]>();
        long[] work = [.. Enumerable.Range(0, Rows).Select(static r => (long)r)];
        for (var k = 0; ; k++)
        {
            long[] running = [.. work.Where(r => attempts[r] > k)];
            if (running.Length == 0)
            {
                break;
            }

            if (running.Length < work.Length && running.Length < threshold * work.Length)
            {
                work = running;
            }

            expectedWidths.Add(work.Length);
            expectedRows.Add(work);
        }

        var recorder = new Recorder();
        using var solution = Ode.Solve(DormandPrince54.Scheme, recorder.Wrap(F), y0, 0.0, 3.0, options with { Compaction = CompactionMode.Auto, CompactionThreshold = threshold });
        Assert.True(solution.Succeeded);
        Assert.Equal(1 + (CallsPerAttempt * expectedWidths.Count), recorder.Rows.Count);
        for (var k = 0; k < expectedWidths.Count; k++)
        {
            for (var call = 0; call < CallsPerAttempt; call++)
            {
                var rows = recorder.Rows[1 + (k * CallsPerAttempt) + call];
                Assert.True(expectedRows[k].SequenceEqual(rows), $"iteration {k}, call {call}: rows [{string.Join(", ", rows)}], expected [{string.Join(", ", expectedRows[k])}]");
            }
        }

        // The threshold changes only the work, never a result.
        Assert.True(threshold == 0 ? expectedWidths.All(static w => w == Rows) : expectedWidths[^1] < Rows);
    }

    [Fact]
    public void SharedStepSize_Forward_AllRowsStepTogether()
    {
        const int Rows = 4;
        using var lambda = tensor(new[] { 0.2, 1.0, 3.0, 8.0 }, dtype: ScalarType.Float64);
        using var y0 = ones(Rows, 1, dtype: ScalarType.Float64);
        Tensor F(Tensor t, Tensor y, Tensor rows) => y.mul(lambda.index_select(0, rows).unsqueeze(1)).neg();
        var options = SolverOptions.Adaptive(1e-7, 1e-9);

        using (var perRow = Ode.Solve(DormandPrince54.Scheme, F, y0, 0.0, 2.0, options))
        {
            // Per-row steps differ, so sharing them is a real change.
            Assert.True(perRow.Stats.AcceptedSteps.data<long>().ToArray().Distinct().Count() > 1);
        }

        var recorder = new Recorder();
        using var shared = Ode.Solve(DormandPrince54.Scheme, recorder.Wrap(F), y0, 0.0, 2.0, options with { SharedStepSize = true });
        Assert.True(shared.Succeeded);
        // Every call but the second, the probe of each row's own automatic first step (the smallest is taken).
        Assert.All(recorder.Times.Where(static (_, i) => i != 1), static t => Assert.True(t.All(v => v == t[0]), $"rows evaluated at different times: {string.Join(", ", t)}"));
        Assert.All(recorder.Rows, static r => Assert.Equal(Rows, r.Length));
        Assert.Single(shared.Stats.AcceptedSteps.data<long>().ToArray().Distinct());
        Assert.Single(shared.Stats.RejectedSteps.data<long>().ToArray().Distinct());

        // The batch norm is the RMS over all rows, so one row's error may be up to √B times its tolerance scale, per
        // step (the bound SolverPropertyTests measured for DOPRI5, times √B).
        var steps = shared.Stats.AcceptedSteps[0].item<long>();
        for (var row = 0; row < Rows; row++)
        {
            var exact = Math.Exp(-lambda[row].item<double>() * 2);
            var error = Math.Abs(shared.Y[row, 0].item<double>() - exact);
            Assert.True(error <= Math.Sqrt(Rows) * (1e-9 + 1e-7) * steps, $"row {row}: error {error:E2}");
        }
    }

    public static TheoryData<string, StepSizeController> Controllers() => new()
    {
        { "I", StepSizeController.Integral },
        { "PI", StepSizeController.PI },
        { "PID", new StepSizeController { PCoefficient = 0.2, ICoefficient = 0.4, DCoefficient = 0.1 } },
        { "PID tight factors", new StepSizeController { PCoefficient = 0.2, ICoefficient = 0.4, DCoefficient = 0.1, Safety = 0.8, FactorMin = 0.5, FactorMax = 2 } },
    };

    [Theory]
    [MemberData(nameof(Controllers))]
    public void Controller_StepSequence_FollowsTheDocumentedFormula(string name, StepSizeController controller)
    {
        // y' = −y, y(0) = 1 over [0, 4]: a DOPRI5 step multiplies y by R(z) and its error estimate is E(z)·y, z = −h,
        // both polynomials of the tableau, so the whole accept/reject and step-size sequence can be predicted from
        // StepSizeController's formula: h' = h·clamp(safety·ε₀^(−β₁/k)·ε₁^(−β₂/k)·ε₂^(−β₃/k), factorMin, factorMax).
        // A first step of 0.5 is far too long for rtol 1e-7: the sequence starts with rejections, then grows back.
        const double Rtol = 1e-7, Atol = 1e-9, H0 = 0.5;
        var predicted = Predict(DormandPrince54.Scheme, controller, 0.0, 4.0, H0, Rtol, Atol);
        using var y0 = ones(1, 1, dtype: ScalarType.Float64);
        var recorder = new Recorder();
        using var solution = Ode.Solve("DOPRI5", recorder.Wrap(Decay), y0, 0.0, 4.0, SolverOptions.Adaptive(Rtol, Atol) with { InitialStep = H0, Controller = controller });
        Assert.True(solution.Succeeded);
        var observed = recorder.Attempts(startCalls: 1);
        Assert.True(predicted.Count == observed.Count, $"{name}: {observed.Count} attempts, predicted {predicted.Count}");
        Assert.Equal(predicted.Count(static p => !p.Accept), solution.Stats.RejectedSteps[0].item<long>());
        // The error estimate is a difference of nearly equal sums, which the solver and E(z)·y round differently: the
        // norms agree to about 1e-6 relative (measured: 2.4e-7 in the step after two accepted ones), so the steps to
        // 1e-5; the controllers' sequences differ by percents (Controllers_IntegralPiAndPid_TakeDifferentStepSequences).
        for (var i = 0; i < observed.Count; i++)
        {
            Assert.True(Math.Abs(observed[i].Dt - predicted[i].Dt) <= 1e-5 * Math.Abs(predicted[i].Dt), $"{name}, attempt {i}: step {observed[i].Dt:R}, predicted {predicted[i].Dt:R}");
            Assert.True(Math.Abs(observed[i].T - predicted[i].T) <= 1e-5 * Math.Max(Math.Abs(predicted[i].T), predicted[i].Dt), $"{name}, attempt {i}: from t = {observed[i].T:R}, predicted {predicted[i].T:R}");
        }
    }

    [Fact]
    public void Controllers_IntegralPiAndPid_TakeDifferentStepSequences()
    {
        var sequences = Controllers().Select(static row => Predict(DormandPrince54.Scheme, (StepSizeController)row[1], 0.0, 4.0, 0.5, 1e-7, 1e-9)).ToArray();
        for (var a = 0; a < sequences.Length; a++)
        {
            for (var b = a + 1; b < sequences.Length; b++)
            {
                var differ = sequences[a].Count != sequences[b].Count || sequences[a].Zip(sequences[b]).Any(static p => Math.Abs(p.First.Dt - p.Second.Dt) > 1e-2 * Math.Abs(p.First.Dt));
                Assert.True(differ, $"controllers {a} and {b} predict the same steps");
            }
        }

        // The sequences above are checked against the solver by Controller_StepSequence_FollowsTheDocumentedFormula;
        // here, that the case exercises rejections (so the "a rejected step never grows" rule is in play).
        Assert.Contains(sequences, static s => s.Any(static p => !p.Accept));
    }

    // The attempts (start, signed step, accepted) of an adaptive solve of y' = −y, y(t0) = 1, as StepSizeController
    // documents them and BatchSolver implements them: the error norm of a width-1 row is |E(z)·y| / (atol + rtol ·
    // max(|y|, |R(z)·y|)); the first two error norms default to 1; a rejected step never grows; after an accepted
    // step that was clipped to land on t1 the plan, not the clip, is the basis.
    private static List<(double T, double Dt, bool Accept)> Predict(RungeKuttaScheme scheme, StepSizeController c, double t0, double t1, double h0, double rtol, double atol)
    {
        var k = Math.Min(scheme.Order, scheme.EmbeddedOrder!.Value) + 1.0;
        var beta1 = (c.PCoefficient + c.ICoefficient + c.DCoefficient) / k;
        var beta2 = -(c.PCoefficient + (2 * c.DCoefficient)) / k;
        var beta3 = c.DCoefficient / k;
        var (t, y, h, prev1, prev2) = (t0, 1.0, h0, 1.0, 1.0);
        var attempts = new List<(double, double, bool)>();
        while (attempts.Count < 10_000)
        {
            var remaining = t1 - t;
            var last = Math.Abs(h) >= Math.Abs(remaining);
            var dt = last ? remaining : h;
            var (r, e) = Polynomials(scheme.Tableau, -dt);
            var yNew = r * y;
            var error = Math.Abs(e * y) / (atol + (rtol * Math.Max(Math.Abs(y), Math.Abs(yNew))));
            var accept = error <= 1;
            var factor = c.Safety * Math.Pow(error, -beta1) * Math.Pow(prev1, -beta2) * Math.Pow(prev2, -beta3);
            factor = Math.Clamp(double.IsNaN(factor) ? c.FactorMin : factor, c.FactorMin, c.FactorMax);
            factor = accept ? factor : Math.Min(factor, 1.0);
            attempts.Add((t, dt, accept));
            var next = (accept ? Math.Abs(h) : Math.Abs(dt)) * factor;
            if (accept)
            {
                (prev2, prev1) = (prev1, Math.Max(error, 1e-10));
                y = yNew;
                t = last ? t1 : t + dt;
                if (last)
                {
                    break;
                }
            }

            h = Math.Sign(t1 - t0) * next;
        }

        return attempts;
    }

    // The stability polynomial R(z) and the error estimate's polynomial E(z) = z·Σ(bᵢ − b̂ᵢ)gᵢ of a tableau.
    private static (double R, double E) Polynomials(ButcherTableau tableau, double z)
    {
        var g = new double[tableau.Stages];
        double sum = 0, error = 0;
        for (var i = 0; i < tableau.Stages; i++)
        {
            var inner = 0.0;
            for (var j = 0; j < i; j++)
            {
                inner += tableau.A[i][j].Value * g[j];
            }

            g[i] = 1 + (z * inner);
            sum += tableau.B[i].Value * g[i];
            error += (tableau.B[i].Value - tableau.BHat![i].Value) * g[i];
        }

        return (1 + (z * sum), z * error);
    }

    // Records every call of the dynamics: each row's time (float64) and the rows evaluated.
    private sealed class Recorder
    {
        public List<double[]> Times { get; } = [];

        public List<long[]> Rows { get; } = [];

        public Func<Tensor, Tensor, Tensor> Wrap(Func<Tensor, Tensor, Tensor> f) => (t, y) =>
        {
            Record(t, null);
            return f(t, y);
        };

        public Func<Tensor, Tensor, Tensor, Tensor> Wrap(Func<Tensor, Tensor, Tensor, Tensor> f) => (t, y, rows) =>
        {
            Record(t, rows);
            return f(t, y, rows);
        };

        /// <summary>The attempts of row 0 of a DOPRI5 solve, read from the calls after the first
        /// <paramref name="startCalls"/> (f(t0, y0), and the probe of the automatic first step).</summary>
        public List<(double T, double Dt)> Attempts(int startCalls)
        {
            var attempts = new List<(double, double)>();
            for (var first = startCalls; first + CallsPerAttempt <= Times.Count; first += CallsPerAttempt)
            {
                // Stage 2 at t + h/5, stage 6 at t + h.
                var dt = (Times[first + 4][0] - Times[first][0]) / (1 - (1.0 / 5));
                attempts.Add((Times[first + 4][0] - dt, dt));
            }

            return attempts;
        }

        private void Record(Tensor t, Tensor? rows)
        {
            using var scope = NewDisposeScope();
            Times.Add(t.to(ScalarType.Float64).cpu().data<double>().ToArray());
            Rows.Add(rows is null ? [] : rows.cpu().data<long>().ToArray());
        }
    }
}
