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
        if (grid.ColumnShared(0) && grid.ColumnShared(last))
        {
            // One span for the batch: the solver samples each row at its own times.
            using var times = grid.ToTensor(y0.device);
            return Ode.Solve(scheme, f, y0, grid.At(0, 0), grid.At(0, last), options with { OutputTimes = times });
        }

        // Rows with their own spans. (Once Ode.Solve takes [B] spans: Ode.Solve(scheme, f, y0, ts, options).)
        using var spans = RowSpans.Create(grid.Column(0), grid.Column(last), y0.device);
        using var clock = tensor(RowSpans.Normalize(grid), dtype: ScalarType.Float64, device: y0.device).reshape(grid.Rows, grid.Count);
        var wrapped = spans.Wrap((t, y, _) => f(t, y));
        return Ode.Solve(scheme, wrapped, y0, 0.0, 1.0, spans.Convert(options) with { OutputTimes = clock });
    }
}
