using NeuralOde.Solving;
using NeuralOde.Tableaux;
using TorchSharp;
using static TorchSharp.torch;

namespace NeuralOde.Tests;

/// <summary>Adaptive solves: accuracy, per-row independence, masking vs compaction, direction and dtype.</summary>
[Collection("Torch")]
public sealed class AdaptiveSolverTests
{
    // Row i relaxes at its own rate towards a moving target: y' = −λᵢ(y − t). Only +, − and × (no transcendental
    // functions, whose last bit depends on where in a vectorized kernel a row lands), so a row's arithmetic is
    // identical whatever batch it is solved in.
    private static Tensor Rates(int rows) =>
        logspace(0, 2, rows, dtype: ScalarType.Float64);

    private static Func<Tensor, Tensor, Tensor, Tensor> Relaxation(Tensor lambda) => (t, y, rows) =>
    {
        using var scope = NewDisposeScope();
        return y.sub(t.unsqueeze(1)).mul(lambda.index_select(0, rows).unsqueeze(1)).neg().MoveToOuterDisposeScope();
    };

    // Exact solution of y' = −λ(y − t): y = t − 1/λ + (y0 + 1/λ)·e^{−λt}.
    private static double RelaxationExact(double lambda, double y0, double t) =>
        t - (1 / lambda) + ((y0 + (1 / lambda)) * Math.Exp(-lambda * t));

    // The largest error over both rows at t = 2, over tol, as measured at tol = 1e-4, 1e-7 and 1e-8 (the worst of the
    // three): BS32 9.9, RKF45 9.5, HeunEuler 4.5, Verner65 4.0, CashKarp 3.0, DOPRI5 0.96, Tsit5 0.51. The bounds are
    // about 3× those.
    private static double ErrorOverTolerance(string scheme) => scheme switch
    {
        "BS32" => 30,
        "RKF45" => 29,
        "HeunEuler" => 14,
        "Verner65" => 12,
        "CashKarp" => 9,
        "DOPRI5" => 3,
        "Tsit5" => 1.6,
        _ => throw new ArgumentException($"No measured error bound for {scheme}.", nameof(scheme)),
    };

    [Theory]
    [MemberData(nameof(TestSchemes.Adaptive), MemberType = typeof(TestSchemes))]
    public void Adaptive_ProblemsWithAnalyticSolutions_MeetTolerance(string name)
    {
        var scheme = Schemes.Get(name);
        using var y0 = ConvergenceOrderTests.Start();
        using var exact = ConvergenceOrderTests.Exact(2.0);
        var errors = new List<double>();
        foreach (var tol in new[] { 1e-4, 1e-7, 1e-8 })
        {
            using var solution = Ode.Solve(scheme, ConvergenceOrderTests.Dynamics, y0, 0.0, 2.0, SolverOptions.Adaptive(tol, tol));
            Assert.True(solution.Succeeded);
            var error = solution.Y.sub(exact).abs().max().item<double>();
            errors.Add(error);

            // Local error control: the global error on this short, non-stiff problem stays within a small, measured
            // multiple of the tolerance (and the solve is not trivially accurate: it took several steps).
            Assert.True(error <= ErrorOverTolerance(name) * tol, $"{name} at tol {tol}: error {error:E2} > {ErrorOverTolerance(name)} × tol");
            Assert.True(solution.Stats.AcceptedSteps.min().item<long>() >= 2);
        }

        // Tolerance proportionality: 10,000× tighter tolerances give at least 100× smaller errors (measured: RKF45
        // 3.4e-3, CashKarp 5.7e-4, Verner65 8e-4, BS32 3.2e-4, Tsit5 2.5e-4, HeunEuler 1.7e-4, DOPRI5 3.3e-5).
        Assert.True(errors[2] / errors[0] <= 1e-2, $"{name}: err(1e-8) / err(1e-4) = {errors[2] / errors[0]:E2}");
    }

    [Theory]
    [InlineData("DOPRI5")]
    [InlineData("RKF45")]
    [InlineData("BS32")]
    public void Adaptive_EachRowOfBatch_EqualsThatRowSolvedAlone(string name)
    {
        const int Rows = 6;
        using var lambda = Rates(Rows);
        using var y0 = linspace(-1, 2, Rows, dtype: ScalarType.Float64).unsqueeze(1).repeat(1, 3);
        var options = SolverOptions.Adaptive(1e-6, 1e-8);
        using var batch = Ode.Solve(name, Relaxation(lambda), y0, 0.0, 3.0, options);
        Assert.True(batch.Succeeded);

        for (var row = 0; row < Rows; row++)
        {
            using var scope = NewDisposeScope();
            var alone = Ode.Solve(name, Relaxation(lambda[row].unsqueeze(0)), y0[row].unsqueeze(0), 0.0, 3.0, options);
            Assert.Equal(alone.Stats.AcceptedSteps[0].item<long>(), batch.Stats.AcceptedSteps[row].item<long>());
            Assert.Equal(alone.Stats.RejectedSteps[0].item<long>(), batch.Stats.RejectedSteps[row].item<long>());

            // Same steps and the same arithmetic per row: identical to the last bit.
            Assert.True(alone.Y[0].eq(batch.Y[row]).all().item<bool>(), $"row {row} differs from its solo solve");

            var expected = RelaxationExact(lambda[row].item<double>(), y0[row, 0].item<double>(), 3.0);
            Assert.True(Math.Abs(batch.Y[row, 0].item<double>() - expected) < 1e-5);
        }

        // Rows with slower rates finish in fewer steps: per-row adaptivity is real.
        Assert.True(batch.Stats.AcceptedSteps[0].item<long>() < batch.Stats.AcceptedSteps[Rows - 1].item<long>());
    }

    [Fact]
    public void Adaptive_MaskingAndCompaction_GiveIdenticalStepsAndResults()
    {
        const int Rows = 32;
        using var lambda = Rates(Rows);
        using var y0 = randn(Rows, 4, dtype: ScalarType.Float64, generator: new Generator(7));
        var options = SolverOptions.Adaptive(1e-7, 1e-9);
        using var masked = Ode.Solve(DormandPrince54.Scheme, Relaxation(lambda), y0, 0.0, 2.0, options with { Compaction = CompactionMode.Never });
        using var compacted = Ode.Solve(DormandPrince54.Scheme, Relaxation(lambda), y0, 0.0, 2.0, options with { Compaction = CompactionMode.Always });

        Assert.Equal(masked.Stats.AcceptedSteps.data<long>().ToArray(), compacted.Stats.AcceptedSteps.data<long>().ToArray());
        Assert.Equal(masked.Stats.RejectedSteps.data<long>().ToArray(), compacted.Stats.RejectedSteps.data<long>().ToArray());
        var differing = masked.Y.ne(compacted.Y).any(1).nonzero().squeeze(1).data<long>().ToArray();
        Assert.True(differing.Length == 0, $"rows {string.Join(", ", differing)} differ by up to {masked.Y.sub(compacted.Y).abs().max().item<double>():E2}");

        // Masking evaluates finished rows too; compaction only evaluates running rows. Each row's own count is the
        // same either way: it counts the evaluations made while that row was running.
        Assert.True(compacted.Stats.RowEvaluations < masked.Stats.RowEvaluations);
        Assert.Equal(masked.Stats.Calls, compacted.Stats.Calls);
        Assert.Equal(masked.Stats.FunctionEvaluations.data<long>().ToArray(), compacted.Stats.FunctionEvaluations.data<long>().ToArray());
        Assert.Equal(compacted.Stats.RowEvaluations, compacted.Stats.FunctionEvaluations.sum().item<long>());
    }

    [Fact]
    public void Adaptive_NetworkDynamics_RowsMatchSoloSolvesWithinRoundoff()
    {
        using var scope = NewDisposeScope();
        random.manual_seed(3);
        var net = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 4)).to(ScalarType.Float64);
        using var noGrad = no_grad();
        Tensor F(Tensor t, Tensor y) => net.call(y);
        var scales = tensor(new[] { 0.1, 0.3, 1, 2, 3, 0.5, 5, 0.01 }, dtype: ScalarType.Float64).unsqueeze(1);
        var y0 = randn(8, 4, dtype: ScalarType.Float64).mul(scales);
        var options = SolverOptions.Adaptive(1e-6, 1e-8);
        var batch = Ode.Solve("Tsit5", F, y0, 0.0, 1.0, options);
        for (var row = 0; row < 8; row++)
        {
            var alone = Ode.Solve("Tsit5", F, y0[row].unsqueeze(0), 0.0, 1.0, options);
            var diff = alone.Y[0].sub(batch.Y[row]).abs().max().item<double>();
            var size = batch.Y[row].abs().max().item<double>();
            Assert.True(diff <= 1e-12 * Math.Max(size, 1e-300), $"row {row}: relative difference {diff / size:E2}");
        }
    }

    [Fact]
    public void Adaptive_BackwardInTime_MatchesForwardSolveReversed()
    {
        using var scope = NewDisposeScope();
        var y0 = ConvergenceOrderTests.Start();
        var forward = Ode.Solve("DOPRI5", ConvergenceOrderTests.Dynamics, y0, 0.0, 1.5, SolverOptions.Adaptive(1e-9, 1e-11));
        var back = Ode.Solve("DOPRI5", ConvergenceOrderTests.Dynamics, forward.Y, 1.5, 0.0, SolverOptions.Adaptive(1e-9, 1e-11));
        Assert.True(back.Succeeded);
        Assert.True(back.T.eq(0.0).all().item<bool>());
        // Measured 2.2e-10 (the forward solve's own error is 1.5e-10): bound about 3× that.
        Assert.True(back.Y.sub(y0).abs().max().item<double>() < 7e-10);
    }

    [Fact]
    public void Adaptive_Float32_ReachesEndWithFloat32Accuracy()
    {
        using var scope = NewDisposeScope();
        var y0 = ConvergenceOrderTests.Start().to(ScalarType.Float32);
        var solution = Ode.Solve("RKF45", ConvergenceOrderTests.Dynamics, y0, 0.0, 2.0, SolverOptions.Adaptive(1e-5, 1e-6));
        Assert.Equal(ScalarType.Float32, solution.Y.dtype);
        Assert.True(solution.Succeeded);
        Assert.True(solution.T.eq(2.0f).all().item<bool>(), "the last step must land exactly on t1");
        // Measured 6.9e-6 (at rtol 1e-5): bound about 3× that.
        var error = solution.Y.to(ScalarType.Float64).sub(ConvergenceOrderTests.Exact(2.0)).abs().max().item<double>();
        Assert.True(error < 2.1e-5, $"error {error:E2}");
    }

    [Fact]
    public void Controllers_PiAndIntegral_BothMeetTolerance()
    {
        using var scope = NewDisposeScope();
        var y0 = ConvergenceOrderTests.Start();
        var exact = ConvergenceOrderTests.Exact(2.0);
        foreach (var controller in new[] { StepSizeController.Integral, StepSizeController.PI, new StepSizeController { PCoefficient = 0.2, ICoefficient = 0.4, DCoefficient = 0.1 } })
        {
            double Error(double tol)
            {
                var solution = Ode.Solve("DOPRI5", ConvergenceOrderTests.Dynamics, y0, 0.0, 2.0, SolverOptions.Adaptive(tol, tol) with { Controller = controller });
                Assert.True(solution.Succeeded);
                return solution.Y.sub(exact).abs().max().item<double>();
            }

            // Measured at tol 1e-8: I 3.2e-9, PI 4.2e-10, PID 5.6e-10; bound about 3× the largest. And 1,000× tighter
            // tolerances give at least 100× smaller errors (measured from 1e-5: 3.4e-4, 1.3e-3, 1.1e-3).
            var tight = Error(1e-8);
            Assert.True(tight < 1e-8, $"P {controller.PCoefficient}, I {controller.ICoefficient}, D {controller.DCoefficient}: error {tight:E2}");
            var loose = Error(1e-5);
            Assert.True(tight / loose <= 1e-2, $"P {controller.PCoefficient}, I {controller.ICoefficient}, D {controller.DCoefficient}: err(1e-8) / err(1e-5) = {tight / loose:E2}");
        }
    }

    [Fact]
    public void Adaptive_PerRowTolerances_TightRowsTakeMoreSteps()
    {
        using var scope = NewDisposeScope();
        // Four identical rows of y' = −y/2; rows 2 and 3 ask for a much tighter relative tolerance.
        var y0 = ones(4, 2, dtype: ScalarType.Float64);
        var rtol = tensor(new[] { 1e-3, 1e-3, 1e-9, 1e-9 }, dtype: ScalarType.Float64);
        var solution = Ode.Solve("DOPRI5", (t, y) => y.mul(0.5).neg(), y0, 0.0, 2.0, new SolverOptions { RelativeToleranceRows = rtol, AbsoluteTolerance = 1e-12 });
        Assert.True(solution.Succeeded);
        var steps = solution.Stats.AcceptedSteps.data<long>().ToArray();
        Assert.Equal(steps[0], steps[1]);
        Assert.True(steps[2] > steps[0], $"tight rows took {steps[2]} steps, loose rows {steps[0]}");
        // Measured: 7.8e-11 for the rows at rtol 1e-9, 1.1e-4 at rtol 1e-3 (bounds about 3× those); a million times
        // tighter tolerance, at least 100,000 times smaller error (measured 7e-7).
        var exact = Math.Exp(-1.0);
        var tightError = Math.Abs(solution.Y[2, 0].item<double>() - exact);
        var looseError = Math.Abs(solution.Y[0, 0].item<double>() - exact);
        Assert.True(tightError < 2.5e-10, $"tight rows: error {tightError:E2}");
        Assert.True(looseError < 3.5e-4, $"loose rows: error {looseError:E2}");
        Assert.True(tightError / looseError <= 1e-5, $"error ratio {tightError / looseError:E2}");
    }

    [Fact]
    public void Solve_ByTypeNameAndInstance_AreTheSameScheme()
    {
        Assert.Same(DormandPrince54.Method.Instance, Schemes.Get("dopri5"));
        Assert.Same(DormandPrince54.Scheme, Schemes.Get("DOPRI5"));
        var error = Assert.Throws<ArgumentException>(() => Schemes.Get("no-such-scheme"));
        Assert.Contains("DOPRI5", error.Message);
    }
}
