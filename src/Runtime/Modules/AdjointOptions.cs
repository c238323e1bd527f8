namespace NeuralOde.Modules;

/// <summary>How the adjoint's backward solve runs.</summary>
public sealed record AdjointOptions
{
    /// <summary>Gets the relative tolerance of the backward solve, or null to use the forward one.</summary>
    public double? RelativeTolerance { get; init; }

    /// <summary>Gets the absolute tolerance of the backward solve, or null to use the forward one.</summary>
    public double? AbsoluteTolerance { get; init; }

    /// <summary>
    /// Gets whether the error norm ignores the parameter-gradient channels (Kidger, Chen and Lyons, "Hey, that's
    /// not an ODE", 2021). Default true: those channels do not feed back into the dynamics, so controlling their
    /// error costs steps without making the state or adjoint more accurate. With false, the parameter gradient's
    /// error estimate enters the norm; since it is a sum over rows, the backward solve then uses one step size for
    /// the whole batch (as torchdiffeq does).
    /// </summary>
    public bool Seminorm { get; init; } = true;

    /// <summary>Gets whether the backward solve uses one step size for the whole batch even with the seminorm.
    /// Default false: every row adapts its own backward step.</summary>
    public bool SharedStepSize { get; init; }

    /// <summary>
    /// Gets whether each row's backward solve starts with the step its forward solve's controller proposed at the end
    /// (the same state, the same tolerance), and each later segment between output times with the step the backward
    /// solve proposed at that time. Default true. With false every segment estimates its first steps from the
    /// state (Hairer, Nørsett and Wanner, as torchdiffeq does): one more evaluation per segment, and first steps that
    /// are often far smaller than the ones the solve then grows to.
    /// </summary>
    public bool FirstStepFromForward { get; init; } = true;
}
