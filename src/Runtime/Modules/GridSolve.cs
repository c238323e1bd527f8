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
    /// <param name="options">The options, without output times.</param>
    /// <returns>The solution; its <c>Ys</c> is <c>[B, T, ...]</c> with <c>Ys[:, 0] == y0</c>.</returns>
    public static OdeSolution Solve(RungeKuttaScheme scheme, Func<Tensor, Tensor, Tensor> f, Tensor y0, TimeGrid grid, SolverOptions options)
    {
        if (!scheme.HasDenseOutput || scheme.InterpolationUsesEndSlope || scheme.DenseStages > 0 || options.Event is not null)
        {
            // Cubic Hermite and the interpolants that weight the end slope need the slope at each step's end, which
            // the solver computes after its observers have seen the step, an interpolant with dense stages evaluates
            // the dynamics (which an observer cannot), and an event cuts a step short after they have: the solver's own
            // sampling of the grid (outputs after a row's event stay NaN).
            using var times = grid.ToTensor(y0.device);
            return Ode.Solve(scheme, f, y0, times, options);
        }

        // The scheme's continuous extension, all the times of a step at once.
        var last = grid.Count - 1;
        Func<Tensor, Tensor, Tensor, Tensor> dynamics = (t, y, _) => f(t, y);
        using var outputs = new GridOutputs(scheme, grid);
        OdeSolution solution;
        if (grid.ColumnShared(0) && grid.ColumnShared(last))
        {
            solution = Ode.Solve(scheme, dynamics, y0, grid.At(0, 0), grid.At(0, last), options, outputs);
        }
        else
        {
            using var t0 = tensor(grid.Column(0), dtype: ScalarType.Float64, device: y0.device);
            using var t1 = tensor(grid.Column(last), dtype: ScalarType.Float64, device: y0.device);
            solution = Ode.Solve(scheme, dynamics, y0, t0, t1, options, outputs);
        }

        var ys = outputs.Assemble(y0, solution);
        return new OdeSolution(solution.Y, solution.T, null, ys, solution.Status, solution.Stats);
    }
}
