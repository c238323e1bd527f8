using NeuralOde.Modules;
using NeuralOde.Solving;
using NeuralOde.Tableaux;
using TorchSharp;
using static TorchSharp.torch;

namespace NeuralOde.Tests;

/// <summary>
/// The edges where a solver can return a wrong number as <see cref="SolverStatus.Success"/>: the clock far from
/// zero, steps that no longer move it, output times at the span's end, a row's result depending on the others,
/// a bad row under a shared step, per-row statistics, bad inputs and options. Each case either meets its
/// tolerance or does not report Success.
/// </summary>
[Collection("Torch")]
public sealed class SolverEdgeCaseTests
{
    private static Tensor Decay(Tensor t, Tensor y) => y.neg();

    public static TheoryData<string, double> Offsets()
    {
        var data = new TheoryData<string, double>();
        foreach (var dtype in new[] { "float32", "float64" })
        {
            foreach (var offset in new[] { 0.0, 1e5, 1e7, 1e8, 1e9 })
            {
                data.Add(dtype, offset);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Offsets))]
    public void Clock_FarFromZero_MeetsToleranceOrFails(string dtypeName, double offset)
    {
        // y' = −y over [t0, t0 + 1]: the exact factor is e^−1 whatever t0, so only the clock's precision can differ.
        var dtype = dtypeName == "float32" ? ScalarType.Float32 : ScalarType.Float64;
        const double Rtol = 1e-5;
        using var scope = NewDisposeScope();
        var y0 = ones(4, 3, dtype: dtype);
        var solution = Ode.Solve("DOPRI5", Decay, y0, offset, offset + 1, SolverOptions.Adaptive(Rtol, 1e-9));
        var exact = Math.Exp(-1);
        var error = solution.Y.to_type(ScalarType.Float64).sub(exact).abs().max().item<double>() / exact;
        Assert.Equal(ScalarType.Float64, solution.T.dtype);
        if (solution.Succeeded)
        {
            // Measured: 2.3e-6–2.6e-6 in both dtypes at every offset up to 1e9, in 26 calls each (before the clock was
            // float64: 3e-3 at 1e5, 0.84 at 1e7, and y0 unchanged at 1e8 for float32, all as Success).
            Assert.True(error <= 3 * Rtol, $"{dtypeName} at t0 = {offset}: relative error {error:E2} reported as Success");
            Assert.True(solution.T.eq(offset + 1).all().item<bool>());
        }
    }

    [Fact]
    public void Clock_StepBelowItsSpacing_EndsThatRowOnly()
    {
        // y' = y² blows up at t = 1/y0: the row starting at 1 cannot reach t = 2; the rows starting at 0.25 and 0.1
        // (blow-up at 4 and 10) can. The failing row stops where its step no longer moves the clock, at a fraction
        // of the work that MaxSteps would allow.
        using var scope = NewDisposeScope();
        var y0 = tensor(new[] { 0.25, 1.0, 0.1 }, dtype: ScalarType.Float64).unsqueeze(1);
        var options = SolverOptions.Adaptive(1e-10, 1e-10);
        var solution = Ode.Solve("DOPRI5", (t, y) => y.square(), y0, 0.0, 2.0, options);
        var statuses = solution.Statuses;
        Assert.Equal([SolverStatus.Success, SolverStatus.ReachedDtMin, SolverStatus.Success], statuses);

        var reached = solution.T[1].item<double>();
        Assert.InRange(reached, 0.999999, 1.0);
        Assert.True(double.IsFinite(solution.Y[1, 0].item<double>()));
        // Measured: 7,832 evaluations, stopping at t = 0.99999999998 (scipy's RK45 stops after 7,802 with "step size
        // less than spacing"); before, the row went on to MaxSteps (60,002 evaluations).
        var evaluations = solution.Stats.FunctionEvaluations[1].item<long>();
        Assert.True(evaluations < 10_000, $"the blow-up row took {evaluations} evaluations");

        // The rows that finish are those of solving them alone, bit for bit.
        foreach (var row in new[] { 0, 2 })
        {
            var alone = Ode.Solve("DOPRI5", (t, y) => y.square(), y0[row..(row + 1)], 0.0, 2.0, options);
            Assert.Equal(alone.Y[0, 0].item<double>(), solution.Y[row, 0].item<double>());
            var exact = 1 / ((1 / y0[row, 0].item<double>()) - 2);
            Assert.True(Math.Abs(solution.Y[row, 0].item<double>() - exact) <= 1e-8 * Math.Abs(exact));
        }
    }

    [Fact]
    public void OutputTimes_JustPastTheEnd_AreWrittenAtTheEnd()
    {
        using var scope = NewDisposeScope();
        var y0 = ones(3, 2, dtype: ScalarType.Float64);
        var times = tensor(new[] { 0.5, 1.0 + 1e-13 }, dtype: ScalarType.Float64);
        var solution = Ode.Solve("DOPRI5", Decay, y0, 0.0, 1.0, new SolverOptions { OutputTimes = times });
        Assert.True(solution.Succeeded);
        Assert.False(solution.Ys!.isnan().any().item<bool>());
        Assert.True(solution.Ys[.., 1].eq(solution.Y).all().item<bool>());

        // Further out is an error, not a silent NaN.
        Assert.Throws<ArgumentException>(() => Ode.Solve("DOPRI5", Decay, y0, 0.0, 1.0, new SolverOptions { OutputTimes = tensor(new[] { 1.0 + 1e-9 }) }));
    }

    [Theory]
    [MemberData(nameof(TestSchemes.Adaptive), MemberType = typeof(TestSchemes))]
    public void AutomaticFirstStep_EachRowBitIdenticalToItsSoloSolve(string name)
    {
        // Van der Pol with one μ per row, the first step chosen automatically.
        const int Rows = 5;
        using var scope = NewDisposeScope();
        var mu = tensor(new[] { 0.5, 1.0, 1.7, 2.3, 3.1 }, dtype: ScalarType.Float64);
        var y0 = tensor(new[] { 2.0, 0.0, 1.0, 0.5, -1.5, 0.3, 0.7, -0.2, 0.1, 1.1 }, dtype: ScalarType.Float64).reshape(Rows, 2);
        Func<Tensor, Tensor, Tensor, Tensor> vdp = (t, y, rows) =>
        {
            using var inner = NewDisposeScope();
            var x = y[.., 0];
            var v = y[.., 1];
            var m = mu.index_select(0, rows);
            var dv = m.mul(x.square().neg().add(1.0)).mul(v).sub(x);
            return stack([v, dv], 1).MoveToOuterDisposeScope();
        };

        var scheme = Schemes.Get(name);
        var options = SolverOptions.Adaptive(1e-6, 1e-8);
        var batch = Ode.Solve(scheme, vdp, y0, 0.0, 3.0, options);
        for (var row = 0; row < Rows; row++)
        {
            var index = tensor(new long[] { row });
            var selected = mu.index_select(0, index);
            var alone = Ode.Solve(scheme, (t, y, _) => vdp(t, y, index), y0[row..(row + 1)], 0.0, 3.0, options);
            Assert.Equal(alone.Statuses[0], batch.Statuses[row]);
            Assert.True(alone.Y[0].eq(batch.Y[row]).all().item<bool>(), $"{name} row {row}: {alone.Y[0].sub(batch.Y[row]).abs().max().item<double>():E2} apart");
            Assert.Equal(alone.Stats.AcceptedSteps[0].item<long>(), batch.Stats.AcceptedSteps[row].item<long>());
            Assert.Equal(alone.Stats.FunctionEvaluations[0].item<long>(), batch.Stats.FunctionEvaluations[row].item<long>());
        }
    }

    [Fact]
    public void SharedStepSize_OneRowNotFinite_OnlyThatRowFails()
    {
        using var scope = NewDisposeScope();
        var y0 = ones(4, 2, dtype: ScalarType.Float64);

        // Row 2's dynamics turn NaN once t passes 0.3.
        Func<Tensor, Tensor, Tensor, Tensor> f = (t, y, rows) =>
        {
            using var inner = NewDisposeScope();
            var poison = rows.eq(2).logical_and(t.gt(0.3)).unsqueeze(1);
            return y.neg().masked_fill(poison, double.NaN).MoveToOuterDisposeScope();
        };

        var solution = Ode.Solve(DormandPrince54.Scheme, f, y0, 0.0, 1.0, SolverOptions.Adaptive(1e-6, 1e-9) with { SharedStepSize = true });
        Assert.Equal([SolverStatus.Success, SolverStatus.Success, SolverStatus.NonFinite, SolverStatus.Success], solution.Statuses);
        var good = solution.Y.index_select(0, tensor(new long[] { 0, 1, 3 }));
        Assert.True(good.sub(Math.Exp(-1)).abs().max().item<double>() < 1e-5);
        Assert.True(solution.T[2].item<double>() <= 0.3 + 1e-12 && double.IsFinite(solution.Y[2, 0].item<double>()));
    }

    [Theory]
    [InlineData(CompactionMode.Never)]
    [InlineData(CompactionMode.Auto)]
    [InlineData(CompactionMode.Always)]
    public void Statistics_PerRow_CountOnlyTheRowsOwnWork(CompactionMode compaction)
    {
        using var scope = NewDisposeScope();
        var rates = tensor(new[] { 0.1, 1.0, 10.0, 100.0 }, dtype: ScalarType.Float64);
        var y0 = ones(4, 1, dtype: ScalarType.Float64);
        Func<Tensor, Tensor, Tensor, Tensor> f = (t, y, rows) => y.mul(rates.index_select(0, rows).unsqueeze(1)).neg();
        var options = SolverOptions.Adaptive(1e-6, 1e-9) with { Compaction = compaction };
        var batch = Ode.Solve(DormandPrince54.Scheme, f, y0, 0.0, 1.0, options);
        long sum = 0;
        for (var row = 0; row < 4; row++)
        {
            var index = tensor(new long[] { row });
            var alone = Ode.Solve(DormandPrince54.Scheme, (t, y, _) => f(t, y, index), y0[row..(row + 1)], 0.0, 1.0, options);
            Assert.Equal(alone.Stats.FunctionEvaluations[0].item<long>(), batch.Stats.FunctionEvaluations[row].item<long>());
            sum += alone.Stats.FunctionEvaluations[0].item<long>();
        }

        // The work done includes masked rows unless finished rows leave at once (as they do here under Auto too:
        // with four rows, one finished row is already below the 0.8 threshold).
        Assert.True(batch.Stats.RowEvaluations >= sum);
        Assert.Equal(compaction == CompactionMode.Never, batch.Stats.RowEvaluations > sum);
    }

    [Fact]
    public void ZeroLengthSolve_CostsNothingAndStillFlagsNonFiniteRows()
    {
        using var scope = NewDisposeScope();
        var y0 = tensor(new[] { 1.0, double.NaN, 3.0 }, dtype: ScalarType.Float64).unsqueeze(1);
        var calls = 0;
        var solution = Ode.Solve("DOPRI5", (t, y) => { calls++; return y.neg(); }, y0, 0.5, 0.5);
        Assert.Equal(0, calls);
        Assert.Equal(0, solution.Stats.Calls);
        Assert.Equal([SolverStatus.Success, SolverStatus.NonFinite, SolverStatus.Success], solution.Statuses);
        Assert.Equal(0, solution.Stats.FunctionEvaluations.sum().item<long>());
    }

    [Fact]
    public void State_WithoutElementsOrInHalfPrecision_IsRejectedClearly()
    {
        using var scope = NewDisposeScope();
        var empty = Assert.Throws<ArgumentException>(() => Ode.Solve("DOPRI5", Decay, zeros(4, 0), 0.0, 1.0));
        Assert.Contains("at least one element", empty.Message, StringComparison.Ordinal);
        foreach (var half in new[] { ScalarType.Float16, ScalarType.BFloat16 })
        {
            var error = Assert.Throws<ArgumentException>(() => Ode.Solve("DOPRI5", Decay, ones(2, 2, dtype: half), 0.0, 1.0));
            Assert.Contains("float32 or float64", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Dynamics_ReturningABufferItKeeps_GetCorrectResultsAndKeepTheBuffer()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var y0 = ones(3, 2, dtype: ScalarType.Float64);
        var buffer = zeros(3, 2, dtype: ScalarType.Float64).DetachFromDisposeScope();
        try
        {
            // Writes −y into its own buffer and returns it every time (the stages would alias without a copy).
            var solution = Ode.Solve("DOPRI5", (t, y) => buffer.copy_(y).neg_(), y0, 0.0, 1.0, SolverOptions.Adaptive(1e-9, 1e-12));
            var fresh = Ode.Solve("DOPRI5", Decay, y0, 0.0, 1.0, SolverOptions.Adaptive(1e-9, 1e-12));
            Assert.False(buffer.IsInvalid, "the dynamics' buffer was disposed");
            Assert.True(solution.Y.eq(fresh.Y).all().item<bool>());
            Assert.True(Math.Abs(solution.Y[0, 0].item<double>() - Math.Exp(-1)) < 1e-9);
        }
        finally
        {
            buffer.Dispose();
        }
    }

    public static TheoryData<string, Func<SolverOptions>> InvalidInEveryMode() => new()
    {
        { "RelativeTolerance", static () => SolverOptions.FixedSteps(10) with { RelativeTolerance = -1e-3 } },
        { "AbsoluteTolerance", static () => SolverOptions.FixedDt(0.1) with { AbsoluteTolerance = -1e-6 } },
        { "DtMin", static () => SolverOptions.FixedSteps(10) with { DtMin = -1 } },
        { "DtMax", static () => SolverOptions.FixedSteps(10) with { DtMax = 0 } },
        { "InitialStep", static () => SolverOptions.FixedSteps(10) with { InitialStep = double.NaN } },
        { "RelativeToleranceRows", static () => SolverOptions.FixedSteps(10) with { RelativeToleranceRows = ones(5, dtype: ScalarType.Float64) } },
        { "AbsoluteToleranceRows", static () => SolverOptions.FixedDt(0.1) with { AbsoluteToleranceRows = ones(2, dtype: ScalarType.Float64) } },
        { "Controller.Safety", static () => SolverOptions.FixedSteps(10) with { Controller = new StepSizeController { Safety = 2 } } },
        { "MaxSteps", static () => SolverOptions.FixedSteps(100) with { MaxSteps = 10 } },
        { "MaxSteps", static () => SolverOptions.FixedDt(0.01) with { MaxSteps = 10 } },
        { "CompactionThreshold", static () => SolverOptions.FixedSteps(10) with { CompactionThreshold = 2 } },
    };

    [Theory]
    [MemberData(nameof(InvalidInEveryMode))]
    public void Options_InvalidValue_IsAnErrorInEveryMode(string option, Func<SolverOptions> make)
    {
        using var scope = NewDisposeScope();
        var y0 = ones(3, 2, dtype: ScalarType.Float64);
        var error = Assert.Throws<ArgumentException>(() => Ode.Solve("RK4", Decay, y0, 0.0, 1.0, make()));
        Assert.Contains(option, error.Message, StringComparison.Ordinal);
        Assert.Equal("options", error.ParamName);
    }

    [Fact]
    public void Options_FixedStepsWithinMaxSteps_Run()
    {
        using var scope = NewDisposeScope();
        var y0 = ones(3, 2, dtype: ScalarType.Float64);
        var solution = Ode.Solve("RK4", Decay, y0, 0.0, 1.0, SolverOptions.FixedSteps(10) with { MaxSteps = 10 });
        Assert.True(solution.Succeeded);
        Assert.Equal(10, solution.Stats.AcceptedSteps[0].item<long>());
    }

    [Fact]
    public void Options_ZeroAbsoluteTolerance_IsPureRelativeControl()
    {
        // y' = −10y from 1 and −2: the state shrinks to e^−10 ≈ 4.5e-5 of its start, where any absolute tolerance
        // would dominate; a zero row stays exactly zero (0/0 in the error norm counts as no error).
        using var scope = NewDisposeScope();
        var y0 = tensor(new[] { 1.0, 0.0, -2.0 }, dtype: ScalarType.Float64).unsqueeze(1);
        double RelativeError(double rtol)
        {
            var solution = Ode.Solve("DOPRI5", (t, y) => y.mul(-10.0), y0, 0.0, 1.0, SolverOptions.Adaptive(rtol, 0));
            Assert.True(solution.Succeeded);
            Assert.Equal(0.0, solution.Y[1, 0].item<double>());
            var exact = y0.mul(Math.Exp(-10));
            return solution.Y.sub(exact).abs().div(exact.abs().clamp_min(1e-300)).masked_fill(exact.eq(0), 0).max().item<double>();
        }

        // Measured: 3.7e-4 at rtol 1e-4 (ten e-folds of local errors add up) and 2.3e-8 at 1e-8.
        var loose = RelativeError(1e-4);
        var tight = RelativeError(1e-8);
        Assert.True(loose <= 1e-3, $"relative error {loose:E2} at rtol 1e-4");
        Assert.True(tight <= 1e-7, $"relative error {tight:E2} at rtol 1e-8");
        Assert.True(tight / loose <= 1e-3, $"the error does not follow the tolerance: {loose:E2} → {tight:E2}");
    }

    [Fact]
    public void Schemes_Names_AreTrimmedAndCaseInsensitive()
    {
        Assert.Same(DormandPrince54.Scheme, Schemes.Get("  dopri5 "));
        Assert.True(Schemes.TryGet("\tRkF45\n", out var rkf));
        Assert.Same(Fehlberg45.Scheme, rkf);
    }

    [Fact]
    public void Controller_InvalidValue_NamesItsParameter()
    {
        using var scope = NewDisposeScope();
        var y0 = ones(3, 2, dtype: ScalarType.Float64);
        foreach (var (controller, name) in new[]
        {
            (new StepSizeController { FactorMin = 1.5 }, "Controller.FactorMin"),
            (new StepSizeController { FactorMax = 0.5 }, "Controller.FactorMax"),
            (new StepSizeController { PCoefficient = double.NaN }, "Controller.PCoefficient"),
            (new StepSizeController { ICoefficient = -1 }, "Controller.PCoefficient + ICoefficient + DCoefficient"),
        })
        {
            var error = Assert.Throws<ArgumentException>(() => Ode.Solve("DOPRI5", Decay, y0, 0.0, 1.0, new SolverOptions { Controller = controller }));
            Assert.StartsWith(name, error.Message, StringComparison.Ordinal);
            Assert.Equal("options", error.ParamName);
        }
    }
}
