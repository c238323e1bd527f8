using NeuralOde.Solving;
using NeuralOde.Stepping;
using static TorchSharp.torch;

namespace NeuralOde.Modules;

/// <summary>
/// Samples a solve at every row's grid times with the scheme's continuous extension, all the times that fall in one
/// accepted step at once: one gather and one interpolation per step, however many outputs it holds (the solver's
/// own output times cost one interpolation each). The outputs keep their autograd graph.
/// </summary>
/// <remarks>
/// Times are on the solver's clock (the grid itself, or each row's normalized clock); the first is the start and
/// the last the end, whose states are the initial and final ones. A time that rounding puts just past a step's end
/// is taken by the next step at θ = 0.
/// </remarks>
internal sealed class GridOutputs : IStepObserver, IDisposable
{
    private readonly RungeKuttaScheme scheme;
    private readonly double[] times;  // [B, T] on the solver's clock
    private readonly int count;
    private readonly double direction;
    private readonly int[] next;      // per row: the next interior time not yet written
    private readonly List<(long[] Rows, long[] Slots, Tensor Values)> written = [];

    /// <summary>Creates the sampler.</summary>
    /// <param name="scheme">The scheme; it must have dense output.</param>
    /// <param name="times">The times on the solver's clock, <c>[B, T]</c> row-major.</param>
    /// <param name="rows">B.</param>
    /// <param name="count">T ≥ 2.</param>
    /// <param name="direction">The sign of the solver's clock's direction.</param>
    public GridOutputs(RungeKuttaScheme scheme, double[] times, long rows, int count, double direction)
    {
        this.scheme = scheme;
        this.times = times;
        this.count = count;
        this.direction = direction;
        next = new int[rows];
        Array.Fill(next, 1);
    }

    /// <inheritdoc />
    public void BeginStep(Tensor rows, Tensor dt, Tensor active)
    {
    }

    /// <inheritdoc />
    public (Tensor SumOfSquares, long Count)? ErrorContribution(StepContext context) => null;

    /// <inheritdoc />
    public void Accepted(StepContext context, Tensor accept)
    {
        long[] index;
        bool[] accepted;
        double[] start, step;
        using (NewDisposeScope())
        {
            index = context.Index.cpu().data<long>().ToArray();
            accepted = accept.cpu().data<bool>().ToArray();
            start = context.T.detach().cpu().to(ScalarType.Float64).data<double>().ToArray();
            step = context.Dt.detach().cpu().to(ScalarType.Float64).data<double>().ToArray();
        }

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
            var end = start[w] + step[w];
            while (next[row] < count - 1)
            {
                var tau = times[(row * count) + next[row]];
                if ((tau - end) * direction > 0)
                {
                    break;
                }

                workRows.Add(w);
                rows.Add(row);
                slots.Add(next[row]);
                thetas.Add(Math.Clamp((tau - start[w]) / step[w], 0.0, 1.0));
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
        var stages = context.Step.ScaledStages.Select(k => k.index_select(0, take)).ToArray();
        var sub = new RungeKuttaStep(context.Step.Y.index_select(0, take), null, null, stages);
        var theta = tensor(thetas.ToArray(), dtype: ScalarType.Float64, device: device).to(context.Y.dtype);
        var values = scheme.Interpolate(context.Y.index_select(0, take), sub, theta);
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
