using static TorchSharp.torch;

namespace NeuralOde.Solving;

/// <summary>
/// The final values of the rows that left the work set, in batch order: the times, statuses and counters in managed
/// arrays, the states (and event results, which may carry a gradient) as tensors. Rows are recorded once, when they
/// leave.
/// </summary>
internal sealed class RowResults : IDisposable
{
    /// <summary>Creates the results of a batch of <paramref name="rows"/> rows.</summary>
    /// <param name="rows">The batch size B.</param>
    public RowResults(int rows)
    {
        T = new double[rows];
        Status = new SolverStatus[rows];
        Accepted = new long[rows];
        Rejected = new long[rows];
        Evaluations = new long[rows];
    }

    /// <summary>Gets each row's final state, <c>[B, ...]</c> (null until the first row is recorded).</summary>
    public Tensor? Y { get; private set; }

    /// <summary>Gets each row's final time.</summary>
    public double[] T { get; }

    /// <summary>Gets each row's final status.</summary>
    public SolverStatus[] Status { get; }

    /// <summary>Gets each row's accepted steps.</summary>
    public long[] Accepted { get; }

    /// <summary>Gets each row's rejected steps.</summary>
    public long[] Rejected { get; }

    /// <summary>Gets each row's evaluations of the dynamics while it was running.</summary>
    public long[] Evaluations { get; }

    /// <summary>Gets each row's event time, <c>[B]</c> float64, or null without events.</summary>
    public Tensor? EventTime { get; private set; }

    /// <summary>Gets each row's event index, <c>[B]</c> int64, or null without events.</summary>
    public Tensor? EventIndex { get; private set; }

    /// <summary>Records the rows at <paramref name="positions"/> of the work set.</summary>
    /// <param name="work">The work set.</param>
    /// <param name="positions">Positions in the work set, increasing.</param>
    public void Record(WorkRows work, ReadOnlySpan<int> positions)
    {
        var targets = new long[positions.Length];
        var sources = new long[positions.Length];
        for (var j = 0; j < positions.Length; j++)
        {
            var i = positions[j];
            var row = work.Rows[i];
            targets[j] = row;
            sources[j] = i;
            T[row] = work.T[i];
            Status[row] = work.Status[i];
            Accepted[row] = work.Accepted[i];
            Rejected[row] = work.Rejected[i];
            Evaluations[row] = work.Evaluations[i];
        }

        if (Y is null)
        {
            // The first record: the work set is still the whole batch in order, so its state is the result.
            Y = work.Y.alias().DetachFromDisposeScope();
            EventTime = work.EventTime?.alias().DetachFromDisposeScope();
            EventIndex = work.EventIndex?.alias().DetachFromDisposeScope();
            return;
        }

        using var scope = NewDisposeScope();
        var to = HostMemory.Write(targets, work.Y.device);
        var from = HostMemory.Write(sources, work.Y.device);
        Y = Put(Y, to, work.Y, from);
        if (EventTime is not null)
        {
            EventTime = Put(EventTime, to, work.EventTime!, from);
            EventIndex = Put(EventIndex!, to, work.EventIndex!, from);
        }
    }

    /// <summary>Records every row of the work set (its state without a copy when no row left before).</summary>
    /// <param name="work">The work set.</param>
    public void RecordAll(WorkRows work)
    {
        var all = new int[work.Count];
        for (var i = 0; i < all.Length; i++)
        {
            all[i] = i;
        }

        Record(work, all);
    }

    /// <summary>Gives up the tensors without disposing them: the caller owns them now.</summary>
    /// <returns>The states, event times and event indices.</returns>
    public (Tensor Y, Tensor? EventTime, Tensor? EventIndex) Release()
    {
        var released = (Y!, EventTime, EventIndex);
        Y = null;
        EventTime = EventIndex = null;
        return released;
    }

    /// <summary>Disposes the tensors still owned.</summary>
    public void Dispose()
    {
        foreach (var tensor in new[] { Y, EventTime, EventIndex })
        {
            if (tensor is not null && !tensor.IsInvalid)
            {
                tensor.Dispose();
            }
        }
    }

    private static Tensor Put(Tensor target, Tensor to, Tensor source, Tensor from)
    {
        var updated = target.index_copy(0, to, source.index_select(0, from)).DetachFromDisposeScope();
        target.Dispose();
        return updated;
    }
}
