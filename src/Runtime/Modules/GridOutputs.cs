using NeuralOde.Solving;
using NeuralOde.Stepping;
using static TorchSharp.torch;

namespace NeuralOde.Modules;

/// <summary>
/// Samples a solve at every row's grid times with the scheme's continuous extension, all the times that fall in one
/// accepted step at once: one gather and one interpolation per step, however many outputs it holds (the solver's
/// own output times cost one interpolation each), with the weights bᵢ(θ) evaluated on the host as the solver's
/// outputs are (<see cref="HostInterpolation"/>). The outputs keep their autograd graph.
/// </summary>
/// <remarks>
/// Every row's first time is its start and its last the end, whose states are the initial and final ones. A time
/// that rounding puts just past a step's end is taken by the next step at θ = 0.
/// </remarks>
internal sealed class GridOutputs : IStepObserver, IDisposable
{
    private readonly RungeKuttaScheme scheme;
    private readonly TimeGrid grid;
    private readonly double[] clock;     // per row: the time its state has reached, float64
    private readonly double[] direction; // per row: +1 or −1
    private readonly int[] next;         // per row: the next interior time not yet written
    private readonly List<(long[] Rows, long[] Slots, Tensor Values)> written = [];

    /// <summary>Creates the sampler.</summary>
    /// <param name="scheme">The scheme; it must have dense output.</param>
    /// <param name="grid">The times, <c>[B, T]</c>; row b runs from its first to its last.</param>
    public GridOutputs(RungeKuttaScheme scheme, TimeGrid grid)
    {
        this.scheme = scheme;
        this.grid = grid;
        clock = grid.Column(0);
        direction = [.. clock.Zip(grid.Column(grid.Count - 1), static (a, e) => (double)Math.Sign(e - a))];
        next = new int[grid.Rows];
        Array.Fill(next, 1);
    }

    /// <inheritdoc />
    public (Tensor SumOfSquares, long Count)? ErrorContribution(StepContext context) => null;

    /// <inheritdoc />
    public void Accepted(StepContext context, Tensor accept)
    {
        long[] index;
        bool[] accepted;
        double[] step;
        using (NewDisposeScope())
        {
            index = context.Index.cpu().data<long>().ToArray();
            accepted = accept.cpu().data<bool>().ToArray();
            step = context.Dt.detach().cpu().to(ScalarType.Float64).data<double>().ToArray();
        }

        // Each row's clock is advanced here in float64 by the steps the state actually took (the step's own dt):
        // the observer sees times in the state's dtype, which in float32 would put θ off by |t|·1e-7 / dt.
        var workRows = new List<long>();
        var rows = new List<long>();
        var slots = new List<long>();
        var thetas = new List<double>();
        for (var w = 0; w < index.Length; w++)
        {
            if (!accepted[w] || step[w] == 0)
            {
                continue;
            }

            var row = index[w];
            var start = clock[row];
            var end = start + step[w];
            clock[row] = end;
            while (next[row] < grid.Count - 1)
            {
                var tau = grid.At(row, next[row]);
                if ((tau - end) * direction[row] > 0)
                {
                    break;
                }

                workRows.Add(w);
                rows.Add(row);
                slots.Add(next[row]);
                thetas.Add(Math.Clamp((tau - start) / step[w], 0.0, 1.0));
                next[row]++;
            }
        }

        if (rows.Count == 0)
        {
            return;
        }

        using var scope = NewDisposeScope();
        var device = context.Y.device;
        var take = tensor(workRows.ToArray(), device: device);
        var slopes = context.Step.Slopes.Select(k => k.index_select(0, take)).ToArray();
        var sub = new RungeKuttaStep(context.Step.Y.index_select(0, take), null, null, context.Step.Dt.index_select(0, take), slopes);
        var steps = workRows.Select(w => step[w]).ToArray();
        var values = HostInterpolation.Interpolate(scheme, context.Y.index_select(0, take), sub, steps, null, [.. thetas]);
        written.Add((rows.ToArray(), slots.ToArray(), values.DetachFromDisposeScope()));
    }

    /// <summary>Assembles the states at every time: <c>[B, T, ...]</c>, NaN where a row never got.</summary>
    /// <param name="y0">The initial states, <c>[B, ...]</c> (the first time's).</param>
    /// <param name="solution">The finished solve (its final states are the last time's where the row succeeded).</param>
    /// <returns>The states, <c>[B, T, ...]</c>.</returns>
    public Tensor Assemble(Tensor y0, OdeSolution solution)
    {
        using var scope = NewDisposeScope();
        var rows = y0.shape[0];
        var count = grid.Count;
        var success = solution.Status.eq((long)SolverStatus.Success);
        var last = where(StepKernels.PerRow(success, solution.Y), solution.Y, full_like(solution.Y, double.NaN));
        var inner = new List<Tensor>();
        if (count > 2)
        {
            var shape = (long[])y0.shape.Clone();
            shape[0] = rows * (count - 2);
            var flat = full(shape, double.NaN, dtype: y0.dtype, device: y0.device);
            if (written.Count > 0)
            {
                var positions = written.SelectMany(w => w.Rows.Zip(w.Slots, (r, s) => (r * (count - 2)) + s - 1)).ToArray();
                var values = cat([.. written.Select(static w => w.Values)], 0);
                flat = flat.index_copy(0, tensor(positions, device: y0.device), values);
            }

            var innerShape = new List<long> { rows, count - 2 };
            innerShape.AddRange(y0.shape.Skip(1));
            inner.Add(flat.reshape([.. innerShape]));
        }

        var result = cat([y0.unsqueeze(1), .. inner, last.unsqueeze(1)], 1);
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>Disposes the recorded outputs.</summary>
    public void Dispose()
    {
        foreach (var (_, _, values) in written)
        {
            values.Dispose();
        }

        written.Clear();
    }
}
