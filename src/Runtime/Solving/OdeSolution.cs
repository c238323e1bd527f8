using static TorchSharp.torch;

namespace NeuralOde.Solving;

/// <summary>
/// The result of a batched solve: final states, optional states at output times, and per-row status and
/// statistics. It owns its tensors; dispose it (or move the tensors you keep) when done.
/// </summary>
public sealed class OdeSolution : IDisposable
{
    internal OdeSolution(Tensor y, Tensor t, Tensor? ts, Tensor? ys, Tensor status, SolverStats stats, Tensor? eventTimes = null, Tensor? eventIndices = null)
    {
        EventTimes = eventTimes;
        EventIndices = eventIndices;
        Y = y;
        T = t;
        Ts = ts;
        Ys = ys;
        Status = status;
        Stats = stats;
    }

    /// <summary>Gets the state each row ended with, <c>[B, ...]</c>: at t1 on success, else the last accepted state.</summary>
    public Tensor Y { get; }

    /// <summary>Gets the time each row reached, <c>[B]</c> float64 whatever the state's dtype (its t1 on success).</summary>
    public Tensor T { get; }

    /// <summary>Gets the requested output times or time grid as given, <c>[T]</c> or <c>[B, T]</c>, or null when none
    /// were requested.</summary>
    public Tensor? Ts { get; }

    /// <summary>Gets the states at the output times (or at every time of the grid), <c>[B, T, ...]</c>, or null when
    /// none were requested. Every entry of a row that succeeded is written; entries a failed row never reached are
    /// NaN.</summary>
    public Tensor? Ys { get; }

    /// <summary>Gets each row's <see cref="SolverStatus"/> code, <c>[B]</c> int64.</summary>
    public Tensor Status { get; }

    /// <summary>Gets each row's event time, <c>[B]</c> float64 (NaN where no event fired), or null when the solve had
    /// no <see cref="SolverOptions.Event"/>.</summary>
    public Tensor? EventTimes { get; }

    /// <summary>Gets which event fired for each row, <c>[B]</c> int64: the column of a <c>[B, E]</c> event function
    /// (0 for a <c>[B]</c> one), −1 where none fired; or null when the solve had no event.</summary>
    public Tensor? EventIndices { get; }

    /// <summary>Gets the per-row statistics.</summary>
    public SolverStats Stats { get; }

    /// <summary>Gets each row's next step as the step-size controller proposed it after the row's last attempt
    /// (signed, float64, <c>[B]</c> on the host; 0 for an empty span), or null where the solve does not report it.</summary>
    internal double[]? NextSteps { get; init; }

    /// <summary>Gets each row's status as an array (copied from the device).</summary>
    public SolverStatus[] Statuses
    {
        get
        {
            using var scope = NewDisposeScope();
            return [.. Status.cpu().data<long>().ToArray().Select(static s => (SolverStatus)s)];
        }
    }

    /// <summary>Gets whether every row ended in <see cref="SolverStatus.Success"/> or at its event
    /// (<see cref="SolverStatus.Event"/>).</summary>
    public bool Succeeded
    {
        get
        {
            using var scope = NewDisposeScope();
            return Status.eq((long)SolverStatus.Success).logical_or_(Status.eq((long)SolverStatus.Event)).all().item<bool>();
        }
    }

    internal IEnumerable<Tensor> Tensors =>
        new[] { Y, T, Ts, Ys, Status, Stats.FunctionEvaluations, Stats.AcceptedSteps, Stats.RejectedSteps, EventTimes, EventIndices }.OfType<Tensor>();

    /// <summary>Disposes the solution's tensors.</summary>
    public void Dispose()
    {
        foreach (var tensor in Tensors)
        {
            tensor.Dispose();
        }
    }
}

/// <summary>
/// Per-row work counters of a solve. <see cref="FunctionEvaluations"/> counts each row's own work: the
/// evaluations made while that row was running. The work actually done, which also includes rows evaluated in a
/// batched call while masked (finished or failed rows that have not left the work set yet), is
/// <see cref="RowEvaluations"/> over <see cref="Calls"/> batched calls.
/// </summary>
public sealed class SolverStats : IDisposable
{
    internal SolverStats(Tensor evaluations, Tensor accepted, Tensor rejected, long calls, long rowEvaluations, long iterations = 0, long hostReads = 0)
    {
        Iterations = iterations;
        HostReads = hostReads;
        FunctionEvaluations = evaluations;
        AcceptedSteps = accepted;
        RejectedSteps = rejected;
        Calls = calls;
        RowEvaluations = rowEvaluations;
    }

    /// <summary>Gets how many times each row was evaluated by the dynamics while it was running, <c>[B]</c> int64
    /// (0 for a row whose span is empty or whose initial state is not finite).</summary>
    public Tensor FunctionEvaluations { get; }

    /// <summary>Gets each row's accepted steps, <c>[B]</c> int64.</summary>
    public Tensor AcceptedSteps { get; }

    /// <summary>Gets each row's rejected steps, <c>[B]</c> int64.</summary>
    public Tensor RejectedSteps { get; }

    /// <summary>Gets the number of batched calls of the dynamics (the NFE of a solver without per-row work).</summary>
    public long Calls { get; }

    /// <summary>Gets the total number of rows evaluated, summed over all <see cref="Calls"/>: the work done, including
    /// masked rows that were evaluated with the batch after they had finished. At least the sum of
    /// <see cref="FunctionEvaluations"/>; equal to it when every finished row left the work set at once
    /// (<see cref="CompactionMode.Always"/>).</summary>
    public long RowEvaluations { get; }

    /// <summary>Gets the number of iterations of the solver loop (each one step attempt of every row of the work
    /// set).</summary>
    public long Iterations { get; }

    /// <summary>Gets how many times the solver loop read per-row values out of tensors to decide what to do next:
    /// through the tensors' memory on the CPU, one device-to-host copy each on another device. One per iteration
    /// (the error norms, or the new states' finiteness for fixed steps), plus one for schemes without FSAL (the end
    /// slope's finiteness) and more with events or a shared adjoint error.</summary>
    public long HostReads { get; }

    /// <summary>Gets the largest per-row evaluation count.</summary>
    public long MaxFunctionEvaluations
    {
        get
        {
            using var scope = NewDisposeScope();
            return FunctionEvaluations.max().item<long>();
        }
    }

    /// <summary>Disposes the counters.</summary>
    public void Dispose()
    {
        FunctionEvaluations.Dispose();
        AcceptedSteps.Dispose();
        RejectedSteps.Dispose();
    }
}
