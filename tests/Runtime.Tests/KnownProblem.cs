namespace NeuralOde.Tests;

/// <summary>Test problems with closed-form solutions and one parameter per row (see <see cref="SolverCase"/>).</summary>
internal enum KnownProblem
{
    /// <summary>y' = −λᵣ·y, any width: y(t) = y0·e^{−λᵣ(t − t0)}.</summary>
    Decay,

    /// <summary>x' = v, v' = −ωᵣ²·x (width 2): a rotation at angular speed ωᵣ.</summary>
    Oscillator,

    /// <summary>y' = −λᵣ(y − t) (width 1), time-dependent: y(t) = t − 1/λ + (y0 − t0 + 1/λ)·e^{−λ(t − t0)}.</summary>
    Relaxation,
}
