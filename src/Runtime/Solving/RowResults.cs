using static TorchSharp.torch;

namespace NeuralOde.Solving;

/// <summary>
/// The final per-row values of a solve, <c>[B, ...]</c> in batch order: rows that leave the work set are written
/// into it once, when they leave. It owns its tensors (detached from every dispose scope).
/// </summary>
/// <param name="y">The final states, <c>[B, ...]</c>.</param>
/// <param name="t">The times reached, <c>[B]</c> float64.</param>
/// <param name="status">The status codes, <c>[B]</c> int64.</param>
/// <param name="accepted">The accepted steps, <c>[B]</c> int64.</param>
/// <param name="rejected">The rejected steps, <c>[B]</c> int64.</param>
/// <param name="evaluations">The evaluations while running, <c>[B]</c> int64.</param>
/// <param name="eventTime">Each row's event time, <c>[B]</c> float64, or null without an event function.</param>
/// <param name="eventIndex">Which event fired per row, <c>[B]</c> int64, or null.</param>
internal sealed class RowResults(Tensor y, Tensor t, Tensor status, Tensor accepted, Tensor rejected, Tensor evaluations, Tensor? eventTime, Tensor? eventIndex) : IDisposable
{
    /// <summary>Gets the final states, <c>[B, ...]</c>.</summary>
    public Tensor Y { get; private set; } = y;

    /// <summary>Gets the times reached, <c>[B]</c> float64.</summary>
    public Tensor T { get; private set; } = t;

    /// <summary>Gets the status codes, <c>[B]</c> int64.</summary>
    public Tensor Status { get; private set; } = status;

    /// <summary>Gets the accepted steps, <c>[B]</c> int64.</summary>
    public Tensor Accepted { get; private set; } = accepted;

    /// <summary>Gets the rejected steps, <c>[B]</c> int64.</summary>
    public Tensor Rejected { get; private set; } = rejected;

    /// <summary>Gets the evaluations while running, <c>[B]</c> int64.</summary>
    public Tensor Evaluations { get; private set; } = evaluations;

    /// <summary>Gets each row's event time, <c>[B]</c> float64 (NaN where none fired), or null.</summary>
    public Tensor? EventTime { get; private set; } = eventTime;

    /// <summary>Gets which event fired per row, <c>[B]</c> int64 (−1 where none), or null.</summary>
    public Tensor? EventIndex { get; private set; } = eventIndex;

    /// <summary>Writes rows <paramref name="from"/> of the work set into rows <paramref name="to"/> of the results.</summary>
    /// <param name="to">Rows of the batch, <c>[R]</c> int64.</param>
    /// <param name="from">Positions in the work set, <c>[R]</c> int64.</param>
    /// <param name="work">The work set.</param>
    public void Record(Tensor to, Tensor from, WorkRows work)
    {
        Y = Put(Y, to, work.Y, from);
        T = Put(T, to, work.T, from);
        Status = Put(Status, to, work.Status, from);
        Accepted = Put(Accepted, to, work.Accepted, from);
        Rejected = Put(Rejected, to, work.Rejected, from);
        Evaluations = Put(Evaluations, to, work.Evaluations, from);
        if (EventTime is not null)
        {
            EventTime = Put(EventTime, to, work.EventTime!, from);
            EventIndex = Put(EventIndex!, to, work.EventIndex!, from);
        }
    }

    /// <summary>Disposes the tensors.</summary>
    public void Dispose()
    {
        foreach (var tensor in new[] { Y, T, Status, Accepted, Rejected, Evaluations, EventTime, EventIndex })
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
