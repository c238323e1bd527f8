using static TorchSharp.torch;

namespace NeuralOde.Solving;

/// <summary>
/// The per-row state of the rows a solver still steps (the work set, W rows): one tensor per quantity, each
/// <c>[W]</c> unless noted, all owned by this object (detached from every dispose scope). Setting a property
/// takes ownership of the new tensor and disposes the old one; <see cref="Select"/> keeps a subset of the rows.
/// </summary>
/// <remarks>
/// The clock (<see cref="T"/>, <see cref="Dt"/>, <see cref="T0"/>, <see cref="T1"/>, <see cref="Direction"/>,
/// <see cref="OutputTimes"/>) is float64 whatever the state's dtype, so that a float32 state far from t = 0 still
/// has an exact clock; tolerances and error norms are in the state's dtype.
/// </remarks>
internal sealed class WorkRows : IDisposable
{
    private Tensor index = null!;
    private Tensor y = null!;
    private Tensor k1 = null!;
    private Tensor t = null!;
    private Tensor dt = null!;
    private Tensor t0 = null!;
    private Tensor t1 = null!;
    private Tensor direction = null!;
    private Tensor status = null!;
    private Tensor attempts = null!;
    private Tensor accepted = null!;
    private Tensor rejected = null!;
    private Tensor evaluations = null!;
    private Tensor errorPrev1 = null!;
    private Tensor errorPrev2 = null!;
    private Tensor rtol = null!;
    private Tensor atol = null!;
    private Tensor? outputTimes;
    private Tensor? nextOutput;
    private Tensor? eventValues;
    private Tensor? eventTime;
    private Tensor? eventIndex;

    /// <summary>Gets or sets each work row's row in the batch, int64.</summary>
    public Tensor Index { get => index; set => Set(ref index, value); }

    /// <summary>Gets or sets the state, <c>[W, ...]</c> (keeps its autograd graph).</summary>
    public Tensor Y { get => y; set => Set(ref y, value); }

    /// <summary>Gets or sets the slope f(t, y), <c>[W, ...]</c>.</summary>
    public Tensor K1 { get => k1; set => Set(ref k1, value); }

    /// <summary>Gets or sets each row's time, float64.</summary>
    public Tensor T { get => t; set => Set(ref t, value); }

    /// <summary>Gets or sets each row's planned signed step, float64.</summary>
    public Tensor Dt { get => dt; set => Set(ref dt, value); }

    /// <summary>Gets or sets each row's start time, float64.</summary>
    public Tensor T0 { get => t0; set => Set(ref t0, value); }

    /// <summary>Gets or sets each row's end time, float64.</summary>
    public Tensor T1 { get => t1; set => Set(ref t1, value); }

    /// <summary>Gets or sets each row's direction of integration, ±1, float64 (+1 for zero-length rows).</summary>
    public Tensor Direction { get => direction; set => Set(ref direction, value); }

    /// <summary>Gets or sets each row's <see cref="SolverStatus"/> code, int64.</summary>
    public Tensor Status { get => status; set => Set(ref status, value); }

    /// <summary>Gets or sets each row's attempted steps (accepted and rejected), int64.</summary>
    public Tensor Attempts { get => attempts; set => Set(ref attempts, value); }

    /// <summary>Gets or sets each row's accepted steps, int64.</summary>
    public Tensor Accepted { get => accepted; set => Set(ref accepted, value); }

    /// <summary>Gets or sets each row's rejected steps, int64.</summary>
    public Tensor Rejected { get => rejected; set => Set(ref rejected, value); }

    /// <summary>Gets or sets each row's evaluations of the dynamics while it was running, int64.</summary>
    public Tensor Evaluations { get => evaluations; set => Set(ref evaluations, value); }

    /// <summary>Gets or sets the error norm of each row's last accepted step (1 initially), state dtype.</summary>
    public Tensor ErrorPrev1 { get => errorPrev1; set => Set(ref errorPrev1, value); }

    /// <summary>Gets or sets the error norm of the accepted step before that, state dtype.</summary>
    public Tensor ErrorPrev2 { get => errorPrev2; set => Set(ref errorPrev2, value); }

    /// <summary>Gets or sets each row's relative tolerance, state dtype.</summary>
    public Tensor Rtol { get => rtol; set => Set(ref rtol, value); }

    /// <summary>Gets or sets each row's absolute tolerance, state dtype.</summary>
    public Tensor Atol { get => atol; set => Set(ref atol, value); }

    /// <summary>Gets or sets each row's output times, <c>[W, T]</c> float64, or null without outputs.</summary>
    public Tensor? OutputTimes { get => outputTimes; set => SetOptional(ref outputTimes, value); }

    /// <summary>Gets or sets the index of each row's next output time not yet written, int64, or null.</summary>
    public Tensor? NextOutput { get => nextOutput; set => SetOptional(ref nextOutput, value); }

    /// <summary>Gets or sets each row's event values at its current state, <c>[W, E]</c> state dtype, or null without
    /// an event function.</summary>
    public Tensor? EventValues { get => eventValues; set => SetOptional(ref eventValues, value); }

    /// <summary>Gets or sets each row's event time, float64 (NaN until its event fires), or null.</summary>
    public Tensor? EventTime { get => eventTime; set => SetOptional(ref eventTime, value); }

    /// <summary>Gets or sets which event fired for each row, int64 (−1 until one does), or null.</summary>
    public Tensor? EventIndex { get => eventIndex; set => SetOptional(ref eventIndex, value); }

    /// <summary>Gets the number of rows in the work set.</summary>
    public long Count => index.shape[0];

    private IEnumerable<Tensor?> All =>
        [index, y, k1, t, dt, t0, t1, direction, status, attempts, accepted, rejected, evaluations, errorPrev1, errorPrev2, rtol, atol, outputTimes, nextOutput, eventValues, eventTime, eventIndex];

    /// <summary>Keeps only the rows <paramref name="kept"/> (int64 positions in the work set), in that order.</summary>
    /// <param name="kept">The positions to keep, <c>[W']</c>.</param>
    public void Select(Tensor kept)
    {
        Tensor Pick(Tensor x) => x.index_select(0, kept);
        Index = Pick(index);
        Y = Pick(y);
        K1 = Pick(k1);
        T = Pick(t);
        Dt = Pick(dt);
        T0 = Pick(t0);
        T1 = Pick(t1);
        Direction = Pick(direction);
        Status = Pick(status);
        Attempts = Pick(attempts);
        Accepted = Pick(accepted);
        Rejected = Pick(rejected);
        Evaluations = Pick(evaluations);
        ErrorPrev1 = Pick(errorPrev1);
        ErrorPrev2 = Pick(errorPrev2);
        Rtol = Pick(rtol);
        Atol = Pick(atol);
        if (outputTimes is not null)
        {
            OutputTimes = Pick(outputTimes);
            NextOutput = Pick(nextOutput!);
        }

        if (eventValues is not null)
        {
            EventValues = Pick(eventValues);
            EventTime = Pick(eventTime!);
            EventIndex = Pick(eventIndex!);
        }
    }

    /// <summary>Takes the per-row results out of the work set: the caller owns them, and the work set keeps only
    /// its control state.</summary>
    /// <returns>The final states <c>[W, ...]</c>, times, statuses and counters.</returns>
    public RowResults TakeResults()
    {
        var results = new RowResults(y, t, status, accepted, rejected, evaluations, eventTime, eventIndex);
        y = t = status = accepted = rejected = evaluations = null!;
        eventTime = eventIndex = null;
        return results;
    }

    /// <summary>Disposes every tensor still owned.</summary>
    public void Dispose()
    {
        foreach (var tensor in All)
        {
            if (tensor is not null && !tensor.IsInvalid)
            {
                tensor.Dispose();
            }
        }
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
