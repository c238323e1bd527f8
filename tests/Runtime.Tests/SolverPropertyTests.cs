using CsCheck;
using NeuralOde.Solving;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace NeuralOde.Tests;

/// <summary>
/// Property-based tests of the solver (CsCheck): random batches, dtypes, spans, tolerances and schemes on problems
/// with known solutions, each asserting an invariant that must hold for every input. The seeds are fixed so that a
/// run is reproducible; a failure prints the smallest failing case CsCheck found and its seed.
/// </summary>
[Collection("Torch")]
public sealed class SolverPropertyTests(ITestOutputHelper output)
{
    // One thread: torch tests run one at a time (see TorchCollection), and the machine has two cores.
    private const int Threads = 1;

    private static readonly int Iterations = int.TryParse(Environment.GetEnvironmentVariable("NEURALODE_PROPERTY_ITERATIONS"), out var n) ? n : 60;

    // The first seed of every property; NEURALODE_PROPERTY_SEED replaces it (for a failure's reproduction, or to
    // sample elsewhere), NEURALODE_PROPERTY_ITERATIONS the number of cases.
    private static readonly string Seed = Environment.GetEnvironmentVariable("NEURALODE_PROPERTY_SEED") ?? "0N0XIzNsQ0O2";

    private static readonly string[] AdaptiveSchemes =
        [.. TestSchemes.BuiltIn.Where(static s => s.HasErrorEstimate).Select(static s => s.Name)];

    private static readonly string[] AllSchemes = [.. TestSchemes.BuiltIn.Select(static s => s.Name)];

    // Offsets where the float64 clock's spacing (at most 1.1e-13) is far below every span and tolerance.
    private static readonly double[] ModerateOffsets = [0.0, 0.5, -0.5, 10.0, -10.0, 1e3, -1e3];

    private static readonly double[] HugeOffsets = [1e5, -1e5, 1e7, -1e7, 1e9, -1e9];

    private static readonly double[] Spans = [1e-6, 1e-3, 0.1, 1.0, 3.0];

    /// <summary>Random adaptive cases: rates in [0.2, 2] and spans up to 3, so that λ·|span| ≤ 6 (at most e⁶ growth
    /// backwards, at most a turn of the oscillator).</summary>
    private static Gen<SolverCase> AdaptiveCases(double[] offsets, int minRows = 1, int maxRows = 5, double givenInitialStep = 0.5) =>
        from scheme in Gen.OneOf(AdaptiveSchemes)
        from dtype in Gen.OneOf(ScalarType.Float32, ScalarType.Float64)
        from problem in Gen.Enum<KnownProblem>()
        from rows in Gen.Int[minRows, maxRows]
        from width in problem switch { KnownProblem.Decay => Gen.Int[1, 3], KnownProblem.Oscillator => Gen.Const(2), _ => Gen.Const(1) }
        from t0 in Gen.OneOf(offsets)
        from span in Gen.OneOf(Spans)
        from backward in Gen.Bool
        from logRtol in Gen.Double[MinLogRtol(scheme, dtype), -3]
        from logAtolRatio in Gen.Double[-3, 0]
        from rates in Gen.Double[0.2, 2].Array[rows]
        from y0 in Gen.Double[-2, 2].Array[rows * width]
        from logH0 in Gen.Nullable(Gen.Double[-4, -1], 1 - givenInitialStep)
        from compaction in Gen.Enum<CompactionMode>()
        select new SolverCase
        {
            Scheme = scheme,
            Dtype = dtype,
            Problem = problem,
            T0 = t0,
            T1 = t0 + (backward ? -span : span),
            Rtol = Math.Pow(10, logRtol),
            Atol = Math.Pow(10, logRtol + logAtolRatio),
            Rates = [.. rates.Select(r => SolverCase.Round(r, dtype))],
            Y0 = [.. Enumerable.Range(0, rows).Select(r => y0.Skip(r * width).Take(width).Select(v => SolverCase.Round(v, dtype)).ToArray())],
            InitialStep = logH0 is double e ? span * Math.Pow(10, e) : null,
            Compaction = compaction,
        };

    // The tightest relative tolerance drawn: float32 resolves about 1e-5 (a few hundred ulps); a second-order
    // scheme needs ~(1/rtol)^(1/2) steps, so 1e-6 keeps it within MaxSteps = 10 000 over a span of 3.
    private static double MinLogRtol(string scheme, ScalarType dtype) =>
        dtype == ScalarType.Float32 ? -5 : Schemes.Get(scheme).Order <= 2 ? -6 : -9;

    [Fact]
    public void Adaptive_ModerateOffsets_SucceedAndMeetTolerance()
    {
        var worst = new Worst();
        try
        {
            AdaptiveCases(ModerateOffsets).Sample(c => CheckToleranceMet(c, worst, requireSuccess: true), seed: Seed, iter: Iterations, threads: Threads, print: static c => c.ToString());
        }
        finally
        {
            output.WriteLine(worst.ToString());
        }
    }

    // Rows up to 48: vectorized kernels process 4, 8 or 16 elements at a time with a scalar tail, so a row's position
    // in the batch decides which path computes it; with the automatic first step, rows differed from their solo solve
    // from 33 rows on (DOPRI5 float32 oscillator, rtol 1e-6: 31 of 33 rows; issue 12 point 4).
    [Fact]
    public void Adaptive_GivenInitialStep_EachRowIsBitIdenticalToThatRowSolvedAlone_UnderEveryCompactionMode() =>
        AdaptiveCases(ModerateOffsets, minRows: 2, maxRows: 48, givenInitialStep: 1)
            .Sample(CheckRowsIndependent, seed: Seed, iter: Math.Max(1, Iterations / 4), threads: Threads, print: static c => c.ToString());

    [Fact]
    public void Adaptive_AutomaticInitialStep_EachRowIsBitIdenticalToThatRowSolvedAlone_UnderEveryCompactionMode() =>
        AdaptiveCases(ModerateOffsets, minRows: 33, maxRows: 48, givenInitialStep: 0)
            .Sample(CheckRowsIndependent, seed: Seed, iter: Math.Max(1, Iterations / 4), threads: Threads, print: static c => c.ToString());

    private static void CheckRowsIndependent(SolverCase c)
    {
        using var batch = c.Solve();
        var reference = SolvedRows.Of(batch, c.Width);
        foreach (var mode in Enum.GetValues<CompactionMode>().Where(m => m != c.Compaction))
        {
            using var other = c.Solve(c.Options() with { Compaction = mode });
            var results = SolvedRows.Of(other, c.Width);
            for (var row = 0; row < c.Rows; row++)
            {
                SolvedRows.AssertSame(reference, row, results, row, $"{c.Compaction} vs {mode}");
            }
        }

        // Solo solves of the first and last rows and of four in between (every row when there are at most six).
        foreach (var row in Enumerable.Range(0, 6).Select(k => k * (c.Rows - 1) / 5).Distinct())
        {
            using var alone = c.Row(row).Solve();
            SolvedRows.AssertSame(reference, row, SolvedRows.Of(alone, c.Width), 0, "batch vs alone");
        }
    }

    // What this test asserts: the ratio of a row's global error to its tolerance scale, atol + rtol·max|y| over the
    // exact trajectory per accepted step, carried to the end by the problem's own growth (SolverCase.ToleranceScale),
    // stays below ToleranceFactor. The factor comes from a measurement (see the constant).
    private static void CheckToleranceMet(SolverCase c, Worst worst, bool requireSuccess)
    {
        using var scope = NewDisposeScope();

        // Three output times inside the span, representable in float32 (so that today's clock, in the state's
        // dtype, puts them where the exact solution is evaluated).
        double[] times = [.. new[] { 0.3, 0.6, 0.9 }.Select(f => Math.Clamp((float)(c.T0 + (f * (c.T1 - c.T0))), Math.Min(c.T0, c.T1), Math.Max(c.T0, c.T1)))];
        var solution = c.Solve(c.Options() with { OutputTimes = tensor(times, dtype: ScalarType.Float64).to(c.Dtype) });
        var statuses = solution.Statuses;
        var y = solution.Y.to(ScalarType.Float64).cpu().data<double>().ToArray();
        var ys = solution.Ys!.to(ScalarType.Float64).cpu().contiguous().data<double>().ToArray();
        var t = solution.T.to(ScalarType.Float64).cpu().data<double>().ToArray();
        var steps = solution.Stats.AcceptedSteps.cpu().data<long>().ToArray();
        for (var row = 0; row < c.Rows; row++)
        {
            if (requireSuccess)
            {
                Assert.True(statuses[row] == SolverStatus.Success, $"row {row}: {statuses[row]} at t = {t[row]:R}");
            }

            if (statuses[row] != SolverStatus.Success)
            {
                Assert.True(statuses[row] is SolverStatus.ReachedDtMin, $"row {row}: {statuses[row]} on a benign problem");
                continue;
            }

            Assert.True(t[row] == c.T1, $"row {row}: Success at t = {t[row]:R}, not t1 = {c.T1:R}");
            var magnitude = c.MaxMagnitude(row);
            var scale = c.ToleranceScale(row, steps[row]);

            // Rounding: a few ulps of max|y| per accepted step, which matters only for float32 at rtol near 1e-5.
            var roundoff = 4 * c.Epsilon * magnitude * (steps[row] + 1);
            void Check(double value, double exact, string what)
            {
                var factor = ToleranceFactor(c.Scheme, atOutputTime: what.StartsWith("output", StringComparison.Ordinal));
                Assert.True(double.IsFinite(value), $"row {row}, {what}: Success with a non-finite value {value}");
                var error = Math.Abs(value - exact);
                worst.Add($"{c.Scheme} {what[..what.IndexOf(' ')]}", Math.Max(0, error - roundoff) / scale, c);
                Assert.True(error <= (factor * scale) + roundoff, $"row {row}, {what}: error {error:E3} > {factor} × {scale:E3} + {roundoff:E2} (got {value:R}, exact {exact:R})");
            }

            var exact = c.Exact(row, c.T1);
            for (var i = 0; i < c.Width; i++)
            {
                Check(y[(row * c.Width) + i], exact[i], $"final y[{i}]");
            }

            for (var j = 0; j < times.Length; j++)
            {
                var at = c.Exact(row, times[j]);
                for (var i = 0; i < c.Width; i++)
                {
                    Check(ys[(((row * times.Length) + j) * c.Width) + i], at[i], $"output y(t = {times[j]:R})[{i}]");
                }
            }
        }
    }

    // Found by this test once the float64 clock landed: the state steps by the planned dt while the clock advances by
    // t + dt rounded to float64, so at |t| = 1e9 (spacing 1.2e-7) each step drifts by up to half a spacing. DOPRI5,
    // float64, y' = −y over [1e9, 1e9 + 1e-3], rtol 1e-10, InitialStep 1e-6: relative error 1.6e-8 as Success
    // (Verner65 float32 relaxation over [−1e9, −1e9 − 1e-3], rtol 1e-5: error 171 for a bound of 127; BS32 float64
    // y' = −1.4(y − t), y(1e7) = 1, over [1e7, 1e7 − 1e-6], rtol 1e-8: −13.0249 for −13.0034, as Success).
    [Fact]
    public void Adaptive_HugeOffsets_SucceedOnlyWithinTolerance()
    {
        var worst = new Worst();
        try
        {
            AdaptiveCases(HugeOffsets).Sample(c => CheckToleranceMet(c, worst, requireSuccess: ResolvableInFloat64(c)), seed: Seed, iter: Iterations, threads: Threads, print: static c => c.ToString());
        }
        finally
        {
            output.WriteLine(worst.ToString());
        }
    }

    // Whether a float64 clock resolves the span a million times over (then the row must succeed), and, for the
    // relaxation y' = −λ(y − t), whose state follows t itself, the steps its tolerance needs: near t0 its slope is
    // λ·|t0| and its scaled error per step about (hλ)^q/rtol for an error estimate of order q, so a step of
    // rtol^(1/q)/λ, which must be far above the clock's spacing at t0 (a CI run found HeunEuler at t0 = 1e9 with
    // rtol 1e-6 and λ = 2, which needs steps of 5e-7 where the clock moves in steps of 1.2e-7: ReachedDtMin there is
    // the honest answer).
    private static bool ResolvableInFloat64(SolverCase c)
    {
        var end = Math.Max(Math.Abs(c.T0), Math.Abs(c.T1));
        var spacing = Math.BitIncrement(end) - end;
        if (Math.Abs(c.T1 - c.T0) < 1e6 * spacing)
        {
            return false;
        }

        if (c.Problem != KnownProblem.Relaxation)
        {
            return true;
        }

        var scheme = Schemes.Get(c.Scheme);
        var errorOrder = Math.Min(scheme.Order, scheme.EmbeddedOrder ?? scheme.Order);
        var neededStep = Math.Pow(c.Rtol, 1.0 / errorOrder) / c.Rates.Max();
        return neededStep >= 1e3 * spacing;
    }

    [Fact]
    public void Adaptive_FinishedRows_NeverChange_WhateverMaxSteps() =>
        AdaptiveCases(ModerateOffsets, minRows: 2, maxRows: 8).Select(Gen.Double[0, 1]).Sample(
            static (c, fraction) =>
            {
                using var full = c.Solve();
                var reference = SolvedRows.Of(full, c.Width);
                var attempts = reference.Accepted.Zip(reference.Rejected, static (a, r) => a + r).ToArray();

                // A step limit somewhere between 1 and the most steps any row needed.
                var limit = 1 + (int)(fraction * (attempts.Max() - 1));
                using var limited = c.Solve(c.Options() with { MaxSteps = limit });
                var results = SolvedRows.Of(limited, c.Width);
                for (var row = 0; row < c.Rows; row++)
                {
                    if (attempts[row] <= limit)
                    {
                        // The row finished within the limit: nothing that happened afterwards (other rows still
                        // stepping, compaction at another moment) changed it.
                        SolvedRows.AssertSame(reference, row, results, row, $"MaxSteps {c.MaxSteps} vs {limit}");
                        continue;
                    }

                    Assert.True(results.Status[row] == SolverStatus.ReachedMaxSteps, $"row {row} needs {attempts[row]} steps; with MaxSteps = {limit} it ended {results.Status[row]}");
                    Assert.Equal(limit, results.Accepted[row] + results.Rejected[row]);
                    Assert.True((c.T1 - results.T[row]) * Math.Sign(c.T1 - c.T0) > 0, $"row {row} stopped early but reports t = {results.T[row]:R}");
                    Assert.True(results.Row(row).All(double.IsFinite), $"row {row} kept a non-finite state");
                }
            },
            seed: Seed,
            iter: Math.Max(1, Iterations / 2),
            threads: Threads,
            print: static p => $"{p.Item1}; fraction {p.Item2:R}");

    [Fact]
    public void Adaptive_Work_IsBoundedByMaxSteps() =>
        AdaptiveCases(ModerateOffsets, maxRows: 8).Select(Gen.Int[1, 40], Gen.Bool).Sample(
            static (c, maxSteps, compact) =>
            {
                // Always-compaction evaluates running rows only, so a row's evaluations are its own work.
                var options = c.Options() with { MaxSteps = maxSteps, Compaction = compact ? CompactionMode.Always : c.Compaction };
                using var solution = c.Solve(options);
                var r = SolvedRows.Of(solution, c.Width);
                var scheme = Schemes.Get(c.Scheme);
                var stages = scheme.Stages;

                // Start: f(t0, y0), and one probe for the automatic first step. Each attempt: the stages after the
                // first, and (without FSAL) the slope at the new state.
                var start = 1 + (c.InitialStep is null ? 1 : 0);
                Assert.True(solution.Stats.Calls <= start + ((long)stages * maxSteps), $"{solution.Stats.Calls} calls > {start} + {stages}·{maxSteps}");
                for (var row = 0; row < c.Rows; row++)
                {
                    var attempts = r.Accepted[row] + r.Rejected[row];
                    Assert.True(attempts <= maxSteps, $"row {row}: {attempts} steps > MaxSteps = {maxSteps}");
                    Assert.True(r.Status[row] != SolverStatus.ReachedMaxSteps || attempts == maxSteps, $"row {row}: ReachedMaxSteps after {attempts} of {maxSteps} steps");
                    Assert.True(r.Evaluations[row] <= start + ((long)stages * maxSteps), $"row {row}: {r.Evaluations[row]} evaluations > {start} + {stages}·{maxSteps}");
                    if (compact)
                    {
                        Assert.True(r.Evaluations[row] <= start + (stages * attempts), $"row {row}: {r.Evaluations[row]} evaluations > {start} + {stages}·{attempts} attempts");
                        Assert.True(r.Evaluations[row] >= start + ((stages - 1) * attempts), $"row {row}: {r.Evaluations[row]} evaluations < {start} + {stages - 1}·{attempts} attempts");
                    }
                }
            },
            seed: Seed,
            iter: Iterations,
            threads: Threads,
            print: static p => $"{p.Item1}; MaxSteps {p.Item2}; Always {p.Item3}");

    // Issue 12 point 6: under masking, a finished row that stays in the work set is still counted.
    [Fact]
    public void Adaptive_MaskedRows_CountOnlyTheirOwnWork() =>
        AdaptiveCases(ModerateOffsets, minRows: 2, maxRows: 8).Sample(
            static c =>
            {
                using var solution = c.Solve(c.Options() with { Compaction = CompactionMode.Never });
                var r = SolvedRows.Of(solution, c.Width);
                var stages = Schemes.Get(c.Scheme).Stages;
                var start = 1 + (c.InitialStep is null ? 1 : 0);
                for (var row = 0; row < c.Rows; row++)
                {
                    var attempts = r.Accepted[row] + r.Rejected[row];
                    Assert.True(r.Evaluations[row] <= start + (stages * attempts), $"row {row}: {r.Evaluations[row]} evaluations for {attempts} attempts of {stages} stages");
                }
            },
            seed: Seed,
            iter: Math.Max(1, Iterations / 2),
            threads: Threads,
            print: static c => c.ToString());

    /// <summary>Per-row spans for up to 8 rows: an offset, a length (0 for an empty row) and a direction each.</summary>
    private static Gen<(SolverCase Case, double[] T0, double[] T1)> PerRowSpanCases() =>
        from c in AdaptiveCases(ModerateOffsets, minRows: 2, maxRows: 8)
        from offsets in Gen.OneOf(ModerateOffsets).Array[8]
        from spans in Gen.OneOf([0.0, .. Spans]).Array[8]
        from backward in Gen.Bool.Array[8]
        let t0 = offsets[..c.Rows]
        select (c with { InitialStep = null }, t0, t0.Select((t, r) => t + (backward[r] ? -spans[r] : spans[r])).ToArray());

    [Fact]
    public void PerRowSpans_EachRowIsItsOwnScalarSolve_AndMeetsTolerance() =>
        PerRowSpanCases().Sample(
            static p =>
            {
                var (c, t0, t1) = p;
                using var batch = c.Solve(t0, t1);
                var results = SolvedRows.Of(batch, c.Width);
                for (var row = 0; row < c.Rows; row++)
                {
                    var alone = c.Row(row) with { T0 = t0[row], T1 = t1[row] };
                    using var solo = alone.Solve();
                    SolvedRows.AssertSame(results, row, SolvedRows.Of(solo, c.Width), 0, $"row {row} over [{t0[row]:R}, {t1[row]:R}] vs its scalar solve");
                    if (t0[row] == t1[row])
                    {
                        Assert.Equal(0, results.Accepted[row] + results.Rejected[row]);
                        Assert.Equal(0, results.Evaluations[row]);
                        Assert.True(results.Row(row).SequenceEqual(c.Y0[row]), $"empty row {row} changed its state");
                    }
                }

                // And each row's value is right, within the bound Adaptive_ModerateOffsets_SucceedAndMeetTolerance uses.
                for (var row = 0; row < c.Rows; row++)
                {
                    var alone = c.Row(row) with { T0 = t0[row], T1 = t1[row] };
                    Assert.Equal(SolverStatus.Success, results.Status[row]);
                    Assert.Equal(t1[row], results.T[row]);
                    var magnitude = alone.MaxMagnitude(0);
                    var bound = (ToleranceFactor(c.Scheme, atOutputTime: false) * alone.ToleranceScale(0, results.Accepted[row]))
                        + (4 * c.Epsilon * magnitude * (results.Accepted[row] + 1));
                    var exact = alone.Exact(0, t1[row]);
                    for (var i = 0; i < c.Width; i++)
                    {
                        var error = Math.Abs(results.Row(row)[i] - exact[i]);
                        Assert.True(error <= bound, $"row {row}, y[{i}]: error {error:E3} > {bound:E3}");
                    }
                }
            },
            seed: Seed,
            iter: Math.Max(1, Iterations / 4),
            threads: Threads,
            print: static p => $"{p.Case}; t0 [{string.Join(", ", p.T0)}]; t1 [{string.Join(", ", p.T1)}]");

    [Fact]
    public void TimeGrids_PerRow_AreTheRowsScalarSolvesWithThoseOutputTimes() =>
        AdaptiveCases(ModerateOffsets, minRows: 1, maxRows: 6).Select(Gen.Double[0.01, 1].Array[5].Array[6], Gen.Bool.Array[6], Gen.OneOf(ModerateOffsets).Array[6]).Sample(
            static (c, gaps, backward, offsets) =>
            {
                // Row r's grid: 6 strictly monotone times from its offset, in its direction.
                var grid = new double[c.Rows, 6];
                for (var row = 0; row < c.Rows; row++)
                {
                    grid[row, 0] = offsets[row];
                    for (var j = 1; j < 6; j++)
                    {
                        grid[row, j] = grid[row, j - 1] + ((backward[row] ? -1 : 1) * gaps[row][j - 1]);
                    }
                }

                using var ts = tensor(grid, dtype: ScalarType.Float64);
                using var batch = c.Solve(ts);
                Assert.Equal([c.Rows, 6L, c.Width], batch.Ys!.shape);
                using var ysBatch = batch.Ys.to(ScalarType.Float64).contiguous();
                var ys = ysBatch.data<double>().ToArray();
                var results = SolvedRows.Of(batch, c.Width);
                for (var row = 0; row < c.Rows; row++)
                {
                    double[] times = [.. Enumerable.Range(0, 6).Select(j => grid[row, j])];
                    var alone = c.Row(row) with { T0 = times[0], T1 = times[^1] };
                    using var outputTimes = tensor(times, dtype: ScalarType.Float64);
                    using var solo = alone.Solve(alone.Options() with { OutputTimes = outputTimes });
                    SolvedRows.AssertSame(results, row, SolvedRows.Of(solo, c.Width), 0, $"row {row} on its grid vs its scalar solve");
                    using var soloYs = solo.Ys!.to(ScalarType.Float64).contiguous();
                    var expected = soloYs.data<double>().ToArray();
                    for (var k = 0; k < 6 * c.Width; k++)
                    {
                        var got = ys[(row * 6 * c.Width) + k];
                        Assert.True(BitConverter.DoubleToInt64Bits(got) == BitConverter.DoubleToInt64Bits(expected[k]), $"row {row}, output {k / c.Width}: {got:R} vs {expected[k]:R}");
                    }

                    // The grid's first output is y0 itself and its last the final state.
                    for (var i = 0; i < c.Width; i++)
                    {
                        Assert.Equal(c.Y0[row][i], ys[(row * 6 * c.Width) + i]);
                        Assert.Equal(results.Row(row)[i], ys[(row * 6 * c.Width) + (5 * c.Width) + i]);
                    }
                }
            },
            seed: Seed,
            iter: Math.Max(1, Iterations / 4),
            threads: Threads,
            print: static p => $"{p.Item1}; backward [{string.Join(", ", p.Item3)}]; offsets [{string.Join(", ", p.Item4)}]");

    /// <summary>Random fixed-step cases of the decay for every built-in scheme: N steps, or a step dt whose last step
    /// is the fraction <c>Last</c> of dt.</summary>
    private static Gen<(SolverCase Case, int Steps, double? Dt)> FixedCases() =>
        from scheme in Gen.OneOf(AllSchemes)
        from dtype in Gen.OneOf(ScalarType.Float32, ScalarType.Float64)
        from rows in Gen.Int[1, 6]
        from width in Gen.Int[1, 3]
        from t0 in Gen.OneOf(ModerateOffsets)
        from span in Gen.OneOf(0.1, 1.0, 3.0)
        from backward in Gen.Bool
        from rates in Gen.Double[0.2, 2].Array[rows]
        from y0 in Gen.Double[-2, 2].Array[rows * width]
        from steps in Gen.Int[1, 40]
        from byDt in Gen.Bool
        from last in Gen.Double[0.05, 0.95]
        let c = new SolverCase
        {
            Scheme = scheme,
            Dtype = dtype,
            Problem = KnownProblem.Decay,
            T0 = t0,
            T1 = t0 + (backward ? -span : span),
            Rtol = 1e-3,
            Atol = 1e-6,
            Rates = [.. rates.Select(r => SolverCase.Round(r, dtype))],
            Y0 = [.. Enumerable.Range(0, rows).Select(r => y0.Skip(r * width).Take(width).Select(v => SolverCase.Round(v, dtype)).ToArray())],
        }
        select (c, steps, byDt ? span / (steps - 1 + last) : (double?)null);

    // A Runge–Kutta step of y' = −λy multiplies y by the scheme's stability polynomial R(z), z = −λh:
    // R(z) = 1 + z·Σ bᵢgᵢ with gᵢ = 1 + z·Σⱼ aᵢⱼgⱼ. So a fixed-step solve must return y0·Π R(zₖ) over its steps,
    // whatever the scheme, up to rounding; a wrong step size, a missing or repeated step or a wrong last step shows.
    private static double StabilityPolynomial(NeuralOde.Stepping.ButcherTableau tableau, double z)
    {
        var g = new double[tableau.Stages];
        var sum = 0.0;
        for (var i = 0; i < tableau.Stages; i++)
        {
            var inner = 0.0;
            for (var j = 0; j < i; j++)
            {
                inner += tableau.A[i][j].Value * g[j];
            }

            g[i] = 1 + (z * inner);
            sum += tableau.B[i].Value * g[i];
        }

        return 1 + (z * sum);
    }

    // The largest row sum of |aᵢⱼ| or Σ|bᵢ|, at least 1.
    private static double CoefficientSize(NeuralOde.Stepping.ButcherTableau tableau) =>
        tableau.A.Select(static row => row.Sum(static a => Math.Abs(a.Value))).Append(tableau.B.Sum(static b => Math.Abs(b.Value))).Append(1.0).Max();

    [Fact]
    public void FixedSteps_Decay_IsTheStabilityPolynomialOnEveryStep_IncludingAShortenedLastStep()
    {
        var worst = new Worst();
        try
        {
            FixedCases().Sample(
                p =>
                {
                    var (c, steps, dt) = p;
                    var scheme = Schemes.Get(c.Scheme);
                    var options = dt is double h ? SolverOptions.FixedDt(h) : SolverOptions.FixedSteps(steps);
                    using var solution = c.Solve(options);
                    var r = SolvedRows.Of(solution, c.Width);

                    // The grid the solver must use: N equal steps, or N − 1 steps of dt and a shorter last one.
                    var span = c.T1 - c.T0;
                    double[] grid = [.. Enumerable.Range(0, steps).Select(k => dt is double d ? c.T0 + (Math.Sign(span) * d * k) : c.T0 + (span * k / steps)), c.T1];
                    var evaluations = 1 + (steps * (scheme.Stages - 1)) + (scheme.IsFsal ? 0 : steps - 1);
                    for (var row = 0; row < c.Rows; row++)
                    {
                        Assert.Equal(SolverStatus.Success, r.Status[row]);
                        Assert.Equal(steps, r.Accepted[row]);
                        Assert.Equal(0, r.Rejected[row]);
                        Assert.Equal(evaluations, r.Evaluations[row]);
                        Assert.True(r.T[row] == c.T1, $"row {row} ended at {r.T[row]:R}, not t1 = {c.T1:R}");
                        var factor = 1.0;
                        var bound = 1.0;
                        for (var k = 0; k < steps; k++)
                        {
                            var step = SolverCase.Round(grid[k + 1] - grid[k], c.Dtype);
                            var amplification = StabilityPolynomial(scheme.Tableau, -c.Rates[row] * step);
                            factor *= amplification;
                            bound *= Math.Max(1, Math.Abs(amplification));
                        }

                        for (var i = 0; i < c.Width; i++)
                        {
                            var expected = c.Y0[row][i] * factor;
                            // Relative rounding, scaled by the size of the coefficients (a stage sums up to Σ|aᵢⱼ| times
                            // the state: 27 for Tsit5), plus an absolute floor for subnormal states (fewer bits).
                            var tiny = c.Dtype == ScalarType.Float32 ? 1.1754944e-38 : 2.2250738585072014e-308;
                            var unit = (steps + 1) * scheme.Stages * CoefficientSize(scheme.Tableau) * ((c.Epsilon * Math.Abs(c.Y0[row][i]) * bound) + tiny);
                            var got = r.Row(row)[i];
                            var ratio = got == expected ? 0 : Math.Abs(got - expected) / unit;
                            worst.Add($"{c.Scheme} {c.Dtype}", ratio, c);
                            Assert.True(ratio <= FixedStepRoundingFactor, $"row {row}, y[{i}]: {got:R}, expected y0·ΠR(z) = {expected:R} ({ratio:F1} rounding units)");
                        }
                    }
                },
                seed: Seed,
                iter: Iterations,
                threads: Threads,
                print: static p => $"{p.Case}; steps {p.Steps}; dt {p.Dt?.ToString("R", System.Globalization.CultureInfo.InvariantCulture) ?? "none"}");
        }
        finally
        {
            output.WriteLine(worst.ToString());
        }
    }

    // In units of ε·(N + 1)·stages·Σ|a|·|y0|·Π max(1, |R|): 3× the largest ratio measured over 2 × 1,500 random
    // cases (seeds 0N0XIzNsQ0O2, evjTdwGHO7T1; every built-in scheme, both dtypes), 0.54 (Euler, float64).
    private const double FixedStepRoundingFactor = 1.6;

    // Local error control bounds each step's error by the tolerance scale, so the global error of a row is bounded by
    // the sum over its steps, each step's error carried to the end by the problem (SolverCase.ToleranceScale: errors of
    // a decaying problem shrink, those of a decay integrated backwards grow by up to e^(rate·|t1 − t0|), the
    // oscillator's carry over): error ≤ factor · tolerance scale. The factors are about 2× the largest ratio measured
    // over 100,000 random cases (2026-12-01, at ff6fc09: seeds 0N0XIzNsQ0O2 and Q7Vb3kLm2Xz1, 20,000 cases each of this
    // test and Adaptive_HugeOffsets_SucceedOnlyWithinTolerance, and 20,000 more of both from 0N0XIzNsQ0O2 with the
    // factors of before; every adaptive built-in scheme, both dtypes, forward and backward, rtol 1e-9…1e-3), printed
    // per scheme by
    //   NEURALODE_PROPERTY_SEED=… NEURALODE_PROPERTY_ITERATIONS=20000 dotnet test tests/Runtime.Tests -c Release --no-build \
    //     --filter "FullyQualifiedName~Adaptive_ModerateOffsets|FullyQualifiedName~Adaptive_HugeOffsets" --logger "console;verbosity=detailed"
    // (with the factors set high, so that no case stops the sample). At t1: CashKarp 6.2, Tsit5 1.6, RKF45 1.4,
    // BS32 1.2, DOPRI5 1.1 (a float64 oscillator at rtol 1e-3: the embedded estimate is an estimate), HeunEuler 0.52,
    // Verner65 0.25. At output times, with every scheme's own dense output: CashKarp 6.2, RKF45 1.6, Tsit5 1.5,
    // BS32 1.3, DOPRI5 1.05, HeunEuler 0.41, Verner65 0.20. Before the bound carried errors by the problem's growth,
    // the table needed up to 17 at t1 and 640 at output times for the growing backward decay, and still failed there
    // one case in a few thousand (seeds 8JUqYRS4qUZ1, 7ytlKPNqDQq1, e2a6gbishKp1).
    private static double ToleranceFactor(string scheme, bool atOutputTime) => scheme switch
    {
        "CashKarp" => 12,
        "Tsit5" or "RKF45" => 3,
        "BS32" => 2.5,
        "DOPRI5" => 2,
        "HeunEuler" or "Verner65" => 1,
        _ => throw new ArgumentException($"No measured tolerance factor for {scheme} (at an output time: {atOutputTime}); measure it as described above.", nameof(scheme)),
    };

    private sealed class Worst
    {
        private readonly Dictionary<string, (double Ratio, string Where, int Count)> byKey = [];

        public void Add(string key, double value, SolverCase c)
        {
            lock (this)
            {
                var (ratio, where, count) = byKey.GetValueOrDefault(key, (0.0, "none", 0));
                byKey[key] = value > ratio ? (value, c.ToString(), count + 1) : (ratio, where, count + 1);
            }
        }

        public override string ToString() => "largest error / tolerance scale (SolverCase.ToleranceScale):\n" + string.Join("\n", byKey.OrderBy(static p => p.Key).Select(static p => $"{p.Key}: {p.Value.Ratio:E3} over {p.Value.Count} values, for {p.Value.Where}"));
    }
}
