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
}
