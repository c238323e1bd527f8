using NeuralOde.Modules;
using NeuralOde.Solving;
using NeuralOde.Tableaux;
using TorchSharp;
using static TorchSharp.torch;

namespace NeuralOde.Tests;

/// <summary>Per-row spans <c>t0, t1 [B]</c> and time grids <c>ts [T]</c> / <c>[B, T]</c>, in every overload form.</summary>
[Collection("Torch")]
public sealed class SpansAndGridsTests
{
    // y' = −y + t: only +, − and × (a row's arithmetic is the same in any batch). Exact: y = t − 1 + (y0 − t0 + 1)e^{t0 − t}.
    private static Tensor Forced(Tensor t, Tensor y) => y.neg().add(t.unsqueeze(1));

    private static double ForcedExact(double y0, double t0, double t) => t - 1 + ((y0 - t0 + 1) * Math.Exp(t0 - t));

    [Fact]
    public void PerRowSpans_MixedDirectionsAndEmpty_EachRowEqualsItsSoloSolve()
    {
        using var scope = NewDisposeScope();
        var t0 = tensor(new[] { 0.0, 1.0, 2.0, 0.5, -3.0 }, dtype: ScalarType.Float64);
        var t1 = tensor(new[] { 1.0, 0.0, 2.0, 4.0, -1.0 }, dtype: ScalarType.Float64);
        var y0 = tensor(new[] { 1.0, 2.0, 3.0, -1.0, 0.5 }, dtype: ScalarType.Float64).unsqueeze(1).repeat(1, 2);
        var options = SolverOptions.Adaptive(1e-8, 1e-10);
        var batch = Ode.Solve("DOPRI5", Forced, y0, t0, t1, options);
        Assert.True(batch.Succeeded);
        Assert.True(batch.T.eq(t1).all().item<bool>());
        for (var row = 0; row < 5; row++)
        {
            var a = t0[row].item<double>();
            var b = t1[row].item<double>();
            var alone = Ode.Solve("DOPRI5", Forced, y0[row..(row + 1)], a, b, options);
            Assert.True(alone.Y[0].eq(batch.Y[row]).all().item<bool>(), $"row {row} differs from its solo solve");
            Assert.Equal(alone.Stats.FunctionEvaluations[0].item<long>(), batch.Stats.FunctionEvaluations[row].item<long>());
            var exact = ForcedExact(y0[row, 0].item<double>(), a, b);
            Assert.True(Math.Abs(batch.Y[row, 0].item<double>() - exact) < 1e-7, $"row {row}: {batch.Y[row, 0].item<double>()} vs {exact}");
        }

        // The empty row finished at once, with its initial state and no work of its own.
        Assert.True(batch.Y[2].eq(y0[2]).all().item<bool>());
        Assert.Equal(0, batch.Stats.FunctionEvaluations[2].item<long>());
    }

    [Fact]
    public void PerRowSpans_FixedDt_ShortensEachRowsLastStep()
    {
        using var scope = NewDisposeScope();
        var t0 = tensor(new[] { 0.0, 0.0 }, dtype: ScalarType.Float64);
        var t1 = tensor(new[] { 0.25, 1.0 }, dtype: ScalarType.Float64);
        var y0 = ones(2, 1, dtype: ScalarType.Float64);
        var solution = Ode.Solve("RK4", Forced, y0, t0, t1, SolverOptions.FixedDt(0.1));
        Assert.True(solution.Succeeded);
        Assert.Equal(new long[] { 3, 10 }, solution.Stats.AcceptedSteps.data<long>().ToArray());
        Assert.True(solution.T.eq(t1).all().item<bool>());
    }

    [Fact]
    public void Grid_Shared_GivesStatesAtEveryTimeStartingWithY0()
    {
        using var scope = NewDisposeScope();
        var ts = linspace(0.0, 2.0, 9, dtype: ScalarType.Float64);
        var y0 = randn(3, 2, dtype: ScalarType.Float64, generator: new Generator(3));
        var solution = Ode.Solve("DOPRI5", Forced, y0, ts, SolverOptions.Adaptive(1e-9, 1e-11));
        Assert.True(solution.Succeeded);
        Assert.Equal(new long[] { 3, 9, 2 }, solution.Ys!.shape);
        Assert.True(solution.Ys[.., 0].eq(y0).all().item<bool>(), "Ys[:, 0] must be y0 bit for bit");
        Assert.True(solution.Ys[.., 8].eq(solution.Y).all().item<bool>());
        for (var j = 0; j < 9; j++)
        {
            var tau = ts[j].item<double>();
            for (var row = 0; row < 3; row++)
            {
                var exact = ForcedExact(y0[row, 1].item<double>(), 0, tau);
                Assert.True(Math.Abs(solution.Ys[row, j, 1].item<double>() - exact) < 1e-8);
            }
        }
    }

    [Fact]
    public void Grid_PerRowWithOwnStartsAndDirections_EachRowEqualsItsSoloSolve()
    {
        using var scope = NewDisposeScope();
        var ts = tensor(new[,] { { 0.0, 0.3, 0.7, 1.0 }, { 5.0, 4.0, 3.5, 2.0 }, { -1.0, -0.9, 0.0, 3.0 } }, dtype: ScalarType.Float64);
        var y0 = tensor(new[] { 1.0, -2.0, 0.5 }, dtype: ScalarType.Float64).unsqueeze(1);
        var options = SolverOptions.Adaptive(1e-8, 1e-10);
        var batch = Ode.Solve(Tsitouras54.Scheme, Forced, y0, ts, options);
        Assert.True(batch.Succeeded);
        for (var row = 0; row < 3; row++)
        {
            var alone = Ode.Solve(Tsitouras54.Scheme, Forced, y0[row..(row + 1)], ts[row], options);
            Assert.True(alone.Ys!.eq(batch.Ys![row..(row + 1)]).all().item<bool>(), $"row {row} differs from its solo solve");
            for (var j = 0; j < 4; j++)
            {
                var exact = ForcedExact(y0[row, 0].item<double>(), ts[row, 0].item<double>(), ts[row, j].item<double>());
                Assert.True(Math.Abs(batch.Ys[row, j, 0].item<double>() - exact) < 1e-7);
            }
        }
    }

    [Fact]
    public void Grid_EveryOverloadForm_GivesTheSameResult()
    {
        using var scope = NewDisposeScope();
        var ts = linspace(0.0, 1.0, 5, dtype: ScalarType.Float64);
        var y0 = ones(2, 3, dtype: ScalarType.Float64);
        var module = new LinearDecay();
        Func<Tensor, Tensor, Tensor> f = (t, y) => y.neg();
        Func<Tensor, Tensor, Tensor, Tensor> rows = (t, y, _) => y.neg();
        var scheme = DormandPrince54.Scheme;
        OdeSolution[] solutions =
        [
            Ode.Solve<DormandPrince54.Method>(f, y0, ts),
            Ode.Solve<DormandPrince54.Method>(rows, y0, ts),
            Ode.Solve<DormandPrince54.Method>(module, y0, ts),
            Ode.Solve("dopri5", f, y0, ts),
            Ode.Solve("dopri5", rows, y0, ts),
            Ode.Solve("dopri5", module, y0, ts),
            Ode.Solve(scheme, f, y0, ts),
            Ode.Solve(scheme, rows, y0, ts),
            Ode.Solve(scheme, module, y0, ts),
        ];
        foreach (var solution in solutions)
        {
            Assert.True(solution.Ys!.eq(solutions[0].Ys!).all().item<bool>());
        }

        Assert.True(Math.Abs(solutions[0].Ys![0, 4, 0].item<double>() - Math.Exp(-1)) < 1e-3); // default rtol 1e-3
    }

    [Fact]
    public void PerRowSpans_EveryOverloadForm_GivesTheSameResult()
    {
        using var scope = NewDisposeScope();
        var t0 = tensor(new[] { 0.0, 1.0 }, dtype: ScalarType.Float64);
        var t1 = tensor(new[] { 1.0, 3.0 }, dtype: ScalarType.Float64);
        var y0 = ones(2, 3, dtype: ScalarType.Float64);
        var module = new LinearDecay();
        Func<Tensor, Tensor, Tensor> f = (t, y) => y.neg();
        Func<Tensor, Tensor, Tensor, Tensor> rows = (t, y, _) => y.neg();
        OdeSolution[] solutions =
        [
            Ode.Solve<DormandPrince54.Method>(f, y0, t0, t1),
            Ode.Solve<DormandPrince54.Method>(rows, y0, t0, t1),
            Ode.Solve<DormandPrince54.Method>(module, y0, t0, t1),
            Ode.Solve("dopri5", f, y0, t0, t1),
            Ode.Solve("dopri5", rows, y0, t0, t1),
            Ode.Solve("dopri5", module, y0, t0, t1),
            Ode.Solve(DormandPrince54.Scheme, f, y0, t0, t1),
            Ode.Solve(DormandPrince54.Scheme, rows, y0, t0, t1),
            Ode.Solve(DormandPrince54.Scheme, module, y0, t0, t1),
            Ode.Solve<DormandPrince54.Method>(module, y0, 0.0, 1.0),
        ];
        foreach (var solution in solutions[..9])
        {
            Assert.True(solution.Y.eq(solutions[0].Y).all().item<bool>());
        }

        Assert.True(Math.Abs(solutions[0].Y[1, 0].item<double>() - Math.Exp(-2)) < 1e-3); // default rtol 1e-3
        Assert.True(solutions[9].Y[0].eq(solutions[0].Y[0]).all().item<bool>());
    }

    public static TheoryData<string, Func<Tensor>> BadGrids() => new()
    {
        { "at least two times", static () => tensor(new[] { 0.0 }, dtype: ScalarType.Float64) },
        { "strictly increasing or strictly decreasing", static () => tensor(new[] { 0.0, 0.5, 0.5, 1.0 }, dtype: ScalarType.Float64) },
        { "strictly increasing or strictly decreasing", static () => tensor(new[] { 0.0, 0.5, 0.2 }, dtype: ScalarType.Float64) },
        { "strictly increasing or strictly decreasing", static () => tensor(new[,] { { 0.0, 1.0 }, { 0.0, 1.0 }, { 1.0, 1.0 } }, dtype: ScalarType.Float64) },
        { "finite", static () => tensor(new[] { 0.0, double.NaN, 1.0 }, dtype: ScalarType.Float64) },
        { "finite", static () => tensor(new[] { 0.0, double.PositiveInfinity }, dtype: ScalarType.Float64) },
        { "floating point", static () => tensor(new long[] { 0, 1 }) },
        { "[T] or [B, T]", static () => zeros(2, 2, dtype: ScalarType.Float64) },
    };

    [Theory]
    [MemberData(nameof(BadGrids))]
    public void Grid_Invalid_IsOneSentenceArgumentException(string expected, Func<Tensor> make)
    {
        using var scope = NewDisposeScope();
        var y0 = ones(3, 2, dtype: ScalarType.Float64);
        var error = Assert.Throws<ArgumentException>(() => Ode.Solve("DOPRI5", Forced, y0, make()));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Equal("ts", error.ParamName);
    }

    [Fact]
    public void Grid_WithOutputTimesToo_IsAnError()
    {
        using var scope = NewDisposeScope();
        var y0 = ones(3, 2, dtype: ScalarType.Float64);
        var ts = linspace(0, 1, 3, dtype: ScalarType.Float64);
        var error = Assert.Throws<ArgumentException>(() => Ode.Solve("DOPRI5", Forced, y0, ts, new SolverOptions { OutputTimes = ts }));
        Assert.Contains("either a time grid ts or SolverOptions.OutputTimes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PerRowSpans_Invalid_AreArgumentExceptions()
    {
        using var scope = NewDisposeScope();
        var y0 = ones(3, 2, dtype: ScalarType.Float64);
        var good = zeros(3, dtype: ScalarType.Float64);
        Assert.Contains("[B] = [3]", Assert.Throws<ArgumentException>(() => Ode.Solve("DOPRI5", Forced, y0, good, ones(2, dtype: ScalarType.Float64))).Message, StringComparison.Ordinal);
        Assert.Contains("finite", Assert.Throws<ArgumentException>(() => Ode.Solve("DOPRI5", Forced, y0, tensor(new[] { 0.0, double.NaN, 0.0 }), ones(3, dtype: ScalarType.Float64))).Message, StringComparison.Ordinal);
        Assert.Contains("floating point", Assert.Throws<ArgumentException>(() => Ode.Solve("DOPRI5", Forced, y0, good, ones(3, dtype: ScalarType.Int64))).Message, StringComparison.Ordinal);

        // Output times must lie inside each row's own span.
        var t1 = tensor(new[] { 1.0, 2.0, 0.5 }, dtype: ScalarType.Float64);
        var outputs = new SolverOptions { OutputTimes = tensor(new[] { 0.25, 0.75 }, dtype: ScalarType.Float64) };
        Assert.Contains("row 2", Assert.Throws<ArgumentException>(() => Ode.Solve("DOPRI5", Forced, y0, good, t1, outputs)).Message, StringComparison.Ordinal);
    }

    private sealed class LinearDecay : nn.Module<Tensor, Tensor, Tensor>
    {
        public LinearDecay()
            : base(nameof(LinearDecay))
        {
        }

        public override Tensor forward(Tensor t, Tensor y) => y.neg();
    }
}
