using static TorchSharp.torch;

namespace NeuralOde.Solving;

/// <summary>
/// The final values of a batch's rows as they leave the work set, in batch order: the times, statuses and counters
/// in managed arrays, the states (and event results, which may carry a gradient) as tensors. Rows are recorded once,
/// when they leave; the batch's rows are numbered <see cref="FirstRow"/> onwards in the solver (a stream numbers its
/// batches' rows consecutively).
/// </summary>
internal sealed class RowResults : IDisposable
{
    /// <summary>Creates the results of a batch of <paramref name="rows"/> rows.</summary>
    /// <param name="rows">The batch size B.</param>
    /// <param name="firstRow">The solver's number of the batch's first row.</param>
    public RowResults(int rows, long firstRow)
    {
        Rows = rows;
        FirstRow = firstRow;
        T = new double[rows];
        Status = new SolverStatus[rows];
        Accepted = new long[rows];
        Rejected = new long[rows];
        Evaluations = new long[rows];
        NextStep = new double[rows];
    }

    /// <summary>Gets the batch size.</summary>
    public int Rows { get; }

    /// <summary>Gets the solver's number of the batch's first row.</summary>
    public long FirstRow { get; }

    /// <summary>Gets how many of the batch's rows have been recorded.</summary>
    public int Recorded { get; private set; }

    /// <summary>Gets whether every row has been recorded.</summary>
    public bool Complete => Recorded == Rows;

    /// <summary>Gets or sets how many of the batch's rows are in the work set.</summary>
    public int InWork { get; set; }

    /// <summary>Gets or sets what the loop did while rows of this batch were in the work set.</summary>
    public LoopCounts Totals { get; set; }

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

    /// <summary>Gets each recorded row's next step as its controller proposed it after the row's last attempt (signed,
    /// 0 for a row whose span was empty).</summary>
    public double[] NextStep { get; }

    /// <summary>Gets each row's event time, <c>[B]</c> float64, or null without events.</summary>
    public Tensor? EventTime { get; private set; }

    /// <summary>Gets each row's event index, <c>[B]</c> int64, or null without events.</summary>
    public Tensor? EventIndex { get; private set; }

    /// <summary>Records the rows at <paramref name="positions"/> of the work set (all of them rows of this batch).</summary>
    /// <param name="work">The work set.</param>
    /// <param name="positions">Positions in the work set, increasing.</param>
    public void Record(WorkRows work, ReadOnlySpan<int> positions)
    {
        if (positions.Length == 0)
        {
            return;
        }

        var targets = new long[positions.Length];
        var sources = new long[positions.Length];
        for (var j = 0; j < positions.Length; j++)
        {
            var i = positions[j];
            var row = (int)(work.Rows[i] - FirstRow);
            targets[j] = row;
            sources[j] = i;
            T[row] = work.T[i];
            Status[row] = work.Status[i];
            Accepted[row] = work.Accepted[i];
            Rejected[row] = work.Rejected[i];
            Evaluations[row] = work.Evaluations[i];
            NextStep[row] = work.Dt[i];
        }

        Recorded += positions.Length;
        InWork -= positions.Length;
        if (Y is null && work.Count == Rows && work.Rows[0] == FirstRow && work.Rows[work.Count - 1] == FirstRow + Rows - 1)
        {
            // The first record while the work set is exactly this batch, in order: its state is the result.
            Y = work.Y.alias().DetachFromDisposeScope();
            EventTime = work.EventTime?.alias().DetachFromDisposeScope();
            EventIndex = work.EventIndex?.alias().DetachFromDisposeScope();
            return;
        }

        using var scope = NewDisposeScope();
        var to = HostMemory.Write(targets, work.Y.device);
        var from = HostMemory.Write(sources, work.Y.device);
        Y = Put(Y ?? Empty(work.Y), to, work.Y, from);
        if (work.EventTime is not null)
        {
            EventTime = Put(EventTime ?? Empty(work.EventTime), to, work.EventTime, from);
            EventIndex = Put(EventIndex ?? Empty(work.EventIndex!), to, work.EventIndex!, from);
        }
    }

    /// <summary>The solution of the batch once every row is recorded; the tensors move to it (owned by no dispose
    /// scope).</summary>
    /// <param name="counts">The loop's counts to report.</param>
    /// <param name="ts">The requested output times, or null.</param>
    /// <param name="ys">The states at the output times, or null.</param>
    /// <returns>The solution.</returns>
    public OdeSolution ToSolution(LoopCounts counts, Tensor? ts, Tensor? ys)
    {
        var device = Y!.device;
        var codes = new long[Rows];
        for (var i = 0; i < Rows; i++)
        {
            codes[i] = (long)Status[i];
        }

        using var scope = NewDisposeScope();
        var stats = new SolverStats(
            Kept(HostMemory.Write(Evaluations, device)),
            Kept(HostMemory.Write(Accepted, device)),
            Kept(HostMemory.Write(Rejected, device)),
            counts.Calls,
            counts.RowEvaluations,
            counts.Iterations,
            counts.HostReads);
        var solution = new OdeSolution(
            Y,
            Kept(HostMemory.Write(T, ScalarType.Float64, device)),
            ts,
            ys,
            Kept(HostMemory.Write(codes, device)),
            stats,
            EventTime,
            EventIndex)
        {
            NextSteps = NextStep,
        };
        Y = null;
        EventTime = EventIndex = null;
        return solution;
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

    private static Tensor Kept(Tensor tensor) => tensor.DetachFromDisposeScope();

    private Tensor Empty(Tensor like)
    {
        var shape = like.shape;
        shape[0] = Rows;
        return zeros(shape, dtype: like.dtype, device: like.device);
    }

    private static Tensor Put(Tensor target, Tensor to, Tensor source, Tensor from)
    {
        var updated = target.index_copy(0, to, source.index_select(0, from)).DetachFromDisposeScope();
        target.Dispose();
        return updated;
    }
}
