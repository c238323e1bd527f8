using NeuralOde.Solving;
using NeuralOde.Tableaux;
using TorchSharp;
using static TorchSharp.torch;

namespace NeuralOde.Tests;

/// <summary>Bad arguments throw at once; failing rows get a status and keep their last accepted state.</summary>
[Collection("Torch")]
public sealed class SolverInputAndStatusTests
{
    private static Tensor Decay(Tensor t, Tensor y) => y.neg();

    private static Tensor Y0() => ones(3, 2, dtype: ScalarType.Float64);

    public static TheoryData<string, Func<Tensor, SolverOptions>> BadOptions() => new()
    {
        { "RelativeTolerance", _ => SolverOptions.Adaptive(rtol: double.NaN) },
        { "RelativeTolerance", _ => SolverOptions.Adaptive(rtol: 0) },
        { "AbsoluteTolerance", _ => SolverOptions.Adaptive(atol: -1e-6) },
        { "AbsoluteTolerance", _ => SolverOptions.Adaptive(atol: double.PositiveInfinity) },
        { "RelativeToleranceRows", _ => new SolverOptions { RelativeToleranceRows = ones(2, dtype: ScalarType.Float64) } },
        { "RelativeToleranceRows", _ => new SolverOptions { RelativeToleranceRows = tensor(new[] { 1e-3, double.NaN, 1e-3 }) } },
        { "AbsoluteToleranceRows", _ => new SolverOptions { AbsoluteToleranceRows = tensor(new[] { 1e-3, -1e-9, 1e-3 }) } },
        { "Steps", _ => SolverOptions.FixedSteps(0) },
        { "Dt", _ => SolverOptions.FixedDt(-0.1) },
        { "Dt", _ => SolverOptions.FixedDt(double.NaN) },
        { "MaxSteps", _ => SolverOptions.FixedDt(1e-9) },
        { "MaxSteps", _ => new SolverOptions { MaxSteps = 0 } },
        { "Safety", _ => new SolverOptions { Controller = new StepSizeController { Safety = 1.5 } } },
        { "FactorMin", _ => new SolverOptions { Controller = new StepSizeController { FactorMin = 0 } } },
        { "DtMax", _ => new SolverOptions { DtMin = 0.5, DtMax = 0.1 } },
        { "InitialStep", _ => new SolverOptions { InitialStep = -1 } },
        { "OutputTimes", _ => new SolverOptions { OutputTimes = tensor(new[] { 0.0, 2.0 }) } },
        { "OutputTimes", _ => new SolverOptions { OutputTimes = tensor(new[] { 0.5, 0.2 }) } },
        { "OutputTimes", _ => new SolverOptions { OutputTimes = zeros(2, 2, dtype: ScalarType.Float64) } },
        { "OutputTimes", _ => new SolverOptions { OutputTimes = tensor(new[] { 0L, 1L }) } },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void Solve_BadOptions_ThrowAtOnceNamingTheOption(string option, Func<Tensor, SolverOptions> make)
    {
        using var scope = NewDisposeScope();
        var y0 = Y0();
        var evaluations = 0;
        Tensor Counting(Tensor t, Tensor y)
        {
            evaluations++;
            return y.neg();
        }

        var error = Assert.Throws<ArgumentException>(() => Ode.Solve<DormandPrince54.Method>(Counting, y0, 0.0, 1.0, make(y0)));
        Assert.Contains(option, error.Message);
        Assert.Equal(0, evaluations);
    }

    [Fact]
    public void Solve_BadStateAndTimes_Throw()
    {
        using var scope = NewDisposeScope();
        Assert.Throws<ArgumentException>(() => Ode.Solve("DOPRI5", Decay, ones(3, dtype: ScalarType.Int64), 0, 1));
        Assert.Throws<ArgumentException>(() => Ode.Solve("DOPRI5", Decay, tensor(1.0), 0, 1));
        Assert.Throws<ArgumentException>(() => Ode.Solve("DOPRI5", Decay, zeros(0, 2), 0, 1));
        Assert.Throws<ArgumentException>(() => Ode.Solve("DOPRI5", Decay, Y0(), double.NaN, 1));
        Assert.Throws<ArgumentException>(() => Ode.Solve("DOPRI5", Decay, Y0(), 0, double.PositiveInfinity));
        var noEstimate = Assert.Throws<ArgumentException>(() => Ode.Solve("RK4", Decay, Y0(), 0, 1));
        Assert.Contains("no embedded error estimate", noEstimate.Message);
    }

    [Fact]
    public void Solve_DynamicsOfWrongShapeOrDtype_ThrowClearError()
    {
        using var scope = NewDisposeScope();
        var shape = Assert.Throws<InvalidOperationException>(() => Ode.Solve("DOPRI5", (t, y) => y.sum(1), Y0(), 0, 1));
        Assert.Contains("shape", shape.Message);
        var dtype = Assert.Throws<InvalidOperationException>(() => Ode.Solve("DOPRI5", (t, y) => y.to(ScalarType.Float32), Y0(), 0, 1));
        Assert.Contains("Float32", dtype.Message);
    }

    [Fact]
    public void Solve_NonFiniteDynamicsInOneRow_MarksThatRowOnlyAndKeepsItsLastState()
    {
        using var scope = NewDisposeScope();

        // Row 1's dynamics turn NaN after t = 0.5: no step can cross it, however small.
        Tensor F(Tensor t, Tensor y, Tensor rows)
        {
            var poisoned = rows.eq(1).logical_and(t.gt(0.5)).unsqueeze(1);
            return where(poisoned, full_like(y, double.NaN), y.neg());
        }

        var solution = Ode.Solve("DOPRI5", F, Y0(), 0.0, 1.0, SolverOptions.Adaptive(1e-8, 1e-10));
        Assert.Equal([SolverStatus.Success, SolverStatus.NonFinite, SolverStatus.Success], solution.Statuses);
        Assert.True(solution.Y[1].isfinite().all().item<bool>(), "a failed row keeps its last accepted, finite state");
        var reached = solution.T[1].item<double>();
        Assert.InRange(reached, 0.4999, 0.5);
        Assert.True(Math.Abs(solution.Y[1, 0].item<double>() - Math.Exp(-reached)) < 1e-7, "and that state is right");
        Assert.True(Math.Abs(solution.Y[0, 0].item<double>() - Math.Exp(-1)) < 1e-7);
    }

    [Fact]
    public void Solve_FiniteTimeBlowUp_EndsWithReachedDtMin()
    {
        using var scope = NewDisposeScope();

        // y' = y², y(0) = 1 blows up at t = 1; the steps shrink until they no longer move the clock.
        var solution = Ode.Solve("RKF45", (t, y) => y.square(), ones(1, 1, dtype: ScalarType.Float64), 0.0, 2.0, SolverOptions.Adaptive(1e-6, 1e-9));
        Assert.Equal([SolverStatus.ReachedDtMin], solution.Statuses);
        Assert.InRange(solution.T[0].item<double>(), 0.999, 1.0);
        Assert.True(solution.Y.isfinite().all().item<bool>());
    }

    [Fact]
    public void Solve_NaNInitialState_IsNonFiniteWithoutTouchingOtherRows()
    {
        using var scope = NewDisposeScope();
        var y0 = tensor(new[,] { { 1.0 }, { double.NaN }, { 2.0 } });
        var solution = Ode.Solve("RKF45", Decay, y0, 0.0, 1.0, SolverOptions.Adaptive(1e-8, 1e-10));
        Assert.Equal([SolverStatus.Success, SolverStatus.NonFinite, SolverStatus.Success], solution.Statuses);
        Assert.True(Math.Abs(solution.Y[2, 0].item<double>() - (2 * Math.Exp(-1))) < 1e-7);
        Assert.True(solution.Y[1].isnan().all().item<bool>(), "the NaN row is returned as it came");
    }

    [Fact]
    public void Solve_MaxStepsAndDtMin_EndRowsWithThoseStatuses()
    {
        using var scope = NewDisposeScope();
        var fast = Ode.Solve("DOPRI5", Decay, Y0(), 0.0, 100.0, SolverOptions.Adaptive(1e-10, 1e-12) with { MaxSteps = 5 });
        Assert.All(fast.Statuses, static s => Assert.Equal(SolverStatus.ReachedMaxSteps, s));
        Assert.True(fast.T.lt(100.0).all().item<bool>());
        Assert.True(fast.Stats.AcceptedSteps.add(fast.Stats.RejectedSteps).le(5).all().item<bool>());

        var stiff = Ode.Solve("DOPRI5", (t, y) => y.mul(-1e6), Y0(), 0.0, 1.0, SolverOptions.Adaptive(1e-6, 1e-9) with { DtMin = 1e-3 });
        Assert.All(stiff.Statuses, static s => Assert.Equal(SolverStatus.ReachedDtMin, s));
    }

    [Fact]
    public void Solve_ThrowOnFailure_NamesTheFailingRows()
    {
        using var scope = NewDisposeScope();
        var y0 = tensor(new[,] { { 1.0 }, { double.NaN }, { 2.0 }, { double.PositiveInfinity } });
        var error = Assert.Throws<OdeSolverException>(() => Ode.Solve("DOPRI5", Decay, y0, 0.0, 1.0, new SolverOptions { ThrowOnFailure = true }));
        Assert.Equal([1, 3], error.Failures.Select(static f => f.Row));
        Assert.Contains("row 1: NonFinite", error.Message);
        Assert.Contains("row 3: NonFinite", error.Message);
    }

    [Fact]
    public void Solve_EmptyInterval_ReturnsInitialStateWithSuccess()
    {
        using var scope = NewDisposeScope();
        var y0 = Y0();
        var solution = Ode.Solve("DOPRI5", Decay, y0, 0.5, 0.5);
        Assert.True(solution.Succeeded);
        Assert.True(solution.Y.eq(y0).all().item<bool>());
    }

    [Fact]
    public void Solve_InsideAnOuterScope_DisposesEverythingWithIt()
    {
        var before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        using (var scope = NewDisposeScope())
        {
            var y0 = Y0();
            var solution = Ode.Solve("DOPRI5", Decay, y0, 0.0, 1.0, new SolverOptions { OutputTimes = linspace(0, 1, 5, dtype: ScalarType.Float64) });
            Assert.True(solution.Succeeded);
        }

        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void FixedSteps_TenThousandSteps_LeaveNoLiveTensorsBehind()
    {
        using var y0 = Y0();

        // One small solve first, so that lazily created library state is not counted.
        using (Ode.Solve("RK4", Decay, y0, 0.0, 1.0, SolverOptions.FixedSteps(3)))
        {
        }

        var liveBefore = DisposeScopeManager.Statistics.ThreadTotalLiveCount;

        using (var solution = Ode.Solve("RK4", Decay, y0, 0.0, 1.0, SolverOptions.FixedSteps(10_000)))
        {
            Assert.True(solution.Succeeded);
            using var corner = solution.Y[0, 0];
            Assert.True(Math.Abs(corner.item<double>() - Math.Exp(-1)) < 1e-12);
        }

        // A leak of one tensor per step would show up as thousands of live tensors here.
        var liveAfter = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        Assert.True(liveAfter == liveBefore, $"{liveAfter - liveBefore} tensors outlived the solve");

        // And the same solve twice more does not grow the count.
        for (var i = 0; i < 2; i++)
        {
            using var again = Ode.Solve("DOPRI5", Decay, y0, 0.0, 10.0, SolverOptions.Adaptive(1e-10, 1e-12));
        }

        Assert.Equal(liveBefore, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void Solve_DynamicsReturningAViewOfTheState_NeverCorruptTheState()
    {
        using var scope = NewDisposeScope();

        // y' = y, written as a view of y: the solver must not scale it in place (that would overwrite y). Without
        // autograd the generated steps scale fresh slopes in place, so that is the case to check.
        using var noGrad = no_grad();
        var y0 = ones(3, 2, dtype: ScalarType.Float64);
        var solution = Ode.Solve("DOPRI5", (t, y) => y.view(3, 2), y0, 0.0, 1.0, SolverOptions.Adaptive(1e-9, 1e-12));
        Assert.True(y0.eq(1.0).all().item<bool>(), "the caller's y0 was modified");
        Assert.True(Math.Abs(solution.Y[0, 0].item<double>() - Math.E) < 1e-8);

        // A scheme that evaluates a stage at the state itself (first order: Euler's result, 100 steps).
        var repeated = Ode.Solve(RepeatedStartScheme.Scheme, (t, y) => y.view(3, 2), y0, 0.0, 1.0, SolverOptions.FixedSteps(100));
        Assert.True(y0.eq(1.0).all().item<bool>(), "the caller's y0 was modified");
        Assert.True(Math.Abs(repeated.Y[2, 1].item<double>() - Math.Pow(1.01, 100)) < 1e-12);
    }
}
