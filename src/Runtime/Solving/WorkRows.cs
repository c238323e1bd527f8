using static TorchSharp.torch;

namespace NeuralOde.Solving;

/// <summary>
/// The per-row state of the rows a solver still steps (the work set, W rows). The clock, the controller's history,
/// the statuses and the counters live in managed arrays (the control pass runs over them on the host); the state,
/// its slope and what must keep an autograd graph are tensors owned by this object. <see cref="Select"/> keeps a
/// subset of the rows in both.
/// </summary>
/// <remarks>
/// Arrays have the capacity of the batch; only the first <see cref="Count"/> entries are rows of the work set.
/// The clock (<see cref="T"/>, <see cref="Dt"/>, <see cref="T0"/>, <see cref="T1"/>, <see cref="Direction"/>,
/// <see cref="OutputTimes"/>) is float64 whatever the state's dtype, so that a float32 state far from t = 0 still
/// has an exact clock.
/// </remarks>
internal sealed class WorkRows : IDisposable
{
    private Tensor index = null!;
    private Tensor y = null!;
    private Tensor k1 = null!;
    private Tensor? eventValues;
    private Tensor? eventTime;
    private Tensor? eventIndex;

    /// <summary>Creates a work set for up to <paramref name="capacity"/> rows.</summary>
    /// <param name="capacity">The most rows it holds.</param>
    /// <param name="outputCount">The output times per row (0 without outputs).</param>
    /// <param name="perRowTolerances">Whether each row has its own tolerances.</param>
    public WorkRows(int capacity, int outputCount, bool perRowTolerances)
    {
        OutputCount = outputCount;
        Rows = new long[capacity];
        T = new double[capacity];
        Dt = new double[capacity];
        T0 = new double[capacity];
        T1 = new double[capacity];
        Direction = new double[capacity];
        Status = new SolverStatus[capacity];
        Attempts = new long[capacity];
        Accepted = new long[capacity];
        Rejected = new long[capacity];
        Evaluations = new long[capacity];
        Prev1 = new double[capacity];
        Prev2 = new double[capacity];
        if (perRowTolerances)
        {
            Rtol = new double[capacity];
            Atol = new double[capacity];
        }

        if (outputCount > 0)
        {
            OutputTimes = new double[(long)capacity * outputCount];
            NextOutput = new int[capacity];
        }
    }

    /// <summary>Gets the number of rows in the work set.</summary>
    public int Count { get; set; }

    /// <summary>Gets the output times per row (0 without outputs).</summary>
    public int OutputCount { get; }

    /// <summary>Gets each work row's row in the batch.</summary>
    public long[] Rows { get; }

    /// <summary>Gets or sets each row's time (the arrays of a generation are swapped, not copied).</summary>
    public double[] T { get; set; }

    /// <summary>Gets each row's planned signed step.</summary>
    public double[] Dt { get; }

    /// <summary>Gets each row's start time.</summary>
    public double[] T0 { get; }

    /// <summary>Gets each row's end time.</summary>
    public double[] T1 { get; }

    /// <summary>Gets each row's direction of integration, ±1 (+1 for zero-length rows).</summary>
    public double[] Direction { get; }

    /// <summary>Gets each row's status.</summary>
    public SolverStatus[] Status { get; }

    /// <summary>Gets each row's attempted steps (accepted and rejected).</summary>
    public long[] Attempts { get; }

    /// <summary>Gets each row's accepted steps.</summary>
    public long[] Accepted { get; }

    /// <summary>Gets each row's rejected steps.</summary>
    public long[] Rejected { get; }

    /// <summary>Gets each row's evaluations of the dynamics while it was running.</summary>
    public long[] Evaluations { get; }

    /// <summary>Gets the error norm of each row's last accepted step (1 initially).</summary>
    public double[] Prev1 { get; }

    /// <summary>Gets the error norm of the accepted step before that.</summary>
    public double[] Prev2 { get; }

    /// <summary>Gets each row's relative tolerance, or null when all rows share the options' one.</summary>
    public double[]? Rtol { get; }

    /// <summary>Gets each row's absolute tolerance, or null when all rows share the options' one.</summary>
    public double[]? Atol { get; }

    /// <summary>Gets each row's output times, row-major (<see cref="OutputCount"/> per row), or null.</summary>
    public double[]? OutputTimes { get; }

    /// <summary>Gets the index of each row's next output time not yet written, or null.</summary>
    public int[]? NextOutput { get; }

    /// <summary>Gets or sets each work row's row in the batch as a tensor, <c>[W]</c> int64 (what rows-aware
    /// dynamics receive).</summary>
    public Tensor Index { get => index; set => Set(ref index, value); }

    /// <summary>Gets or sets the state, <c>[W, ...]</c> (keeps its autograd graph).</summary>
    public Tensor Y { get => y; set => Set(ref y, value); }

    /// <summary>Gets or sets the slope f(t, y), <c>[W, ...]</c>.</summary>
    public Tensor K1 { get => k1; set => Set(ref k1, value); }

    /// <summary>Gets or sets each row's event values at its current state, <c>[W, E]</c> state dtype, or null without
    /// an event function.</summary>
    public Tensor? EventValues { get => eventValues; set => SetOptional(ref eventValues, value); }

    /// <summary>Gets or sets each row's event time, <c>[W]</c> float64 (NaN until its event fires; it carries the
    /// event's gradient), or null.</summary>
    public Tensor? EventTime { get => eventTime; set => SetOptional(ref eventTime, value); }

    /// <summary>Gets or sets which event fired for each row, <c>[W]</c> int64 (−1 until one does), or null.</summary>
    public Tensor? EventIndex { get => eventIndex; set => SetOptional(ref eventIndex, value); }

    /// <summary>Keeps only the rows at <paramref name="kept"/> (increasing positions in the work set), in that
    /// order.</summary>
    /// <param name="kept">The positions to keep.</param>
    public void Select(ReadOnlySpan<int> kept)
    {
        using (var scope = NewDisposeScope())
        {
            var positions = HostMemory.Write(ToLong(kept), Y.device);
            Tensor Pick(Tensor x) => x.index_select(0, positions);
            Index = Pick(index);
            Y = Pick(y);
            K1 = Pick(k1);
            if (eventValues is not null)
            {
                EventValues = Pick(eventValues);
                EventTime = Pick(eventTime!);
                EventIndex = Pick(eventIndex!);
            }
        }

        // Positions increase, so moving each kept row down to its new place never overwrites a row still to move.
        for (var j = 0; j < kept.Length; j++)
        {
            var i = kept[j];
            Rows[j] = Rows[i];
            T[j] = T[i];
            Dt[j] = Dt[i];
            T0[j] = T0[i];
            T1[j] = T1[i];
            Direction[j] = Direction[i];
            Status[j] = Status[i];
            Attempts[j] = Attempts[i];
            Accepted[j] = Accepted[i];
            Rejected[j] = Rejected[i];
            Evaluations[j] = Evaluations[i];
            Prev1[j] = Prev1[i];
            Prev2[j] = Prev2[i];
            if (Rtol is not null)
            {
                Rtol[j] = Rtol[i];
                Atol![j] = Atol[i];
            }

            if (OutputTimes is not null)
            {
                Array.Copy(OutputTimes, (long)i * OutputCount, OutputTimes, (long)j * OutputCount, OutputCount);
                NextOutput![j] = NextOutput[i];
            }
        }

        Count = kept.Length;
    }

    /// <summary>Disposes every tensor still owned.</summary>
    public void Dispose()
    {
        foreach (var tensor in new[] { index, y, k1, eventValues, eventTime, eventIndex })
        {
            if (tensor is not null && !tensor.IsInvalid)
            {
                tensor.Dispose();
            }
        }
    }

    private static long[] ToLong(ReadOnlySpan<int> values)
    {
        var result = new long[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            result[i] = values[i];
        }

        return result;
    }

    private static void Set(ref Tensor field, Tensor value)
    {
        if (ReferenceEquals(field, value))
        {
            return;
        }

        var old = field;
        field = value.DetachFromDisposeScope();
        old?.Dispose();
    }

    private static void SetOptional(ref Tensor? field, Tensor? value)
    {
        if (ReferenceEquals(field, value))
        {
            return;
        }

        var old = field;
        field = value?.DetachFromDisposeScope();
        old?.Dispose();
    }
}
