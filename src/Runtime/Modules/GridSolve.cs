using NeuralOde.Solving;
using NeuralOde.Stepping;
using static TorchSharp.torch;

namespace NeuralOde.Modules;

/// <summary>Solves a batch over a checked time grid: each row from its first time to its last, sampled at all of them.</summary>
internal static class GridSolve
{
    /// <summary>Solves <paramref name="y0"/> over every row's grid.</summary>
    /// <param name="scheme">The scheme.</param>
    /// <param name="f">The dynamics, <c>(t [B'], y [B', ...]) → dy/dt</c>.</param>
    /// <param name="y0">The states at each row's first time, <c>[B, ...]</c>.</param>
    /// <param name="grid">The times, <c>[B, T]</c>.</param>
    /// <param name="options">The options, in time units, without output times.</param>
    /// <returns>The solution; its <c>Ys</c> is <c>[B, T, ...]</c> with <c>Ys[:, 0] == y0</c>. Its <c>Y</c> and
    /// <c>T</c> are the final states and times (on a shared clock when the rows' spans differ).</returns>
    public static OdeSolution Solve(RungeKuttaScheme scheme, Func<Tensor, Tensor, Tensor> f, Tensor y0, TimeGrid grid, SolverOptions options)
    {
        var last = grid.Count - 1;
        Func<Tensor, Tensor, Tensor, Tensor> dynamics = (t, y, _) => f(t, y);
        if (grid.ColumnShared(0) && grid.ColumnShared(last))
        {
            // One span for the batch: the solver's clock is the grid's.
            var (t0, t1) = (grid.At(0, 0), grid.At(0, last));
            if (!scheme.HasDenseOutput)
            {
                using var times = grid.ToTensor(y0.device);
                return Ode.Solve(scheme, f, y0, t0, t1, options with { OutputTimes = times });
            }

            return Sampled(scheme, dynamics, y0, t0, t1, options, grid.ToArray(), grid, Math.Sign(t1 - t0));
        }

        // Rows with their own spans, on one clock s from 0 to 1. (Once Ode.Solve takes [B] spans, it solves them.)
        using var spans = RowSpans.Create(grid.Column(0), grid.Column(last), y0.device);
        var clock = RowSpans.Normalize(grid);
        var wrapped = spans.Wrap(dynamics);
        var converted = spans.Convert(options);
        if (!scheme.HasDenseOutput)
        {
            using var times = tensor(clock, dtype: ScalarType.Float64, device: y0.device).reshape(grid.Rows, grid.Count);
            return Ode.Solve(scheme, wrapped, y0, 0.0, 1.0, converted with { OutputTimes = times });
        }

        return Sampled(scheme, wrapped, y0, 0.0, 1.0, converted, clock, grid, 1.0);
    }

    // Solves with a GridOutputs observer and returns the solution with its states at the times.
    private static OdeSolution Sampled(
        RungeKuttaScheme scheme,
        Func<Tensor, Tensor, Tensor, Tensor> dynamics,
        Tensor y0,
        double t0,
        double t1,
        SolverOptions options,
        double[] clock,
        TimeGrid grid,
        double direction)
    {
        using var outputs = new GridOutputs(scheme, clock, grid.Rows, grid.Count, direction);
        var solution = Ode.Solve(scheme, dynamics, y0, t0, t1, options, outputs);
        var ys = outputs.Assemble(y0, solution);
        return new OdeSolution(solution.Y, solution.T, null, ys, solution.Status, solution.Stats);
    }
}
