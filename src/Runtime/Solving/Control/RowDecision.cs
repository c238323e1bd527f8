namespace NeuralOde.Solving.Control;

/// <summary>What the step-size controller decides for one row after a step attempt.</summary>
/// <param name="Dt">The next signed step (float64).</param>
/// <param name="Prev1">The error norm of the last accepted step after this attempt.</param>
/// <param name="Prev2">The error norm of the accepted step before that.</param>
/// <param name="ReachedDtMin">Whether the row ends because its step can shrink no further or no longer moves its clock.</param>
/// <param name="NonFinite">Whether the row ends because it cannot shrink further and its last attempt was not finite.</param>
internal readonly record struct RowDecision(double Dt, double Prev1, double Prev2, bool ReachedDtMin, bool NonFinite);
