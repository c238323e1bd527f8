namespace NeuralOde.Solving;

/// <summary>
/// How a row of a batch ended. The codes are torchode's, so that per-row status tensors can be compared across
/// libraries; a solution reports one per row as an <c>int64</c> tensor and as this enum.
/// </summary>
public enum SolverStatus : long
{
    /// <summary>Internal: the row is still being integrated. Never appears in a returned solution.</summary>
    Running = -1,

    /// <summary>The row reached the end time.</summary>
    Success = 0,

    /// <summary>The step size fell below the minimum step without the error estimate being met: the problem is
    /// probably stiff or has a singularity there. The row keeps its last accepted state.</summary>
    ReachedDtMin = 2,

    /// <summary>The row used up the maximum number of steps before reaching the end time. The row keeps its last
    /// accepted state.</summary>
    ReachedMaxSteps = 3,

    /// <summary>The dynamics produced NaN or infinity that no smaller step could avoid. The row keeps its last
    /// accepted (finite) state.</summary>
    NonFinite = 4,

    /// <summary>The row stopped at a zero crossing of <see cref="SolverOptions.Event"/> before its end time: its state
    /// is the state at the event and <see cref="OdeSolution.EventTimes"/> holds the time. (Not one of torchode's codes.)</summary>
    Event = 5,
}
