using static TorchSharp.torch;

namespace NeuralOde.Solving.Control;

/// <summary>What the controller decided after a step attempt, per row of the work set.</summary>
/// <param name="Dt">The next signed step, <c>[W]</c> float64.</param>
/// <param name="Prev1">The new last accepted error norm, <c>[W]</c>.</param>
/// <param name="Prev2">The one before, <c>[W]</c>.</param>
/// <param name="ReachedDtMin">Rows that end with <see cref="SolverStatus.ReachedDtMin"/>, <c>[W]</c> bool.</param>
/// <param name="NonFinite">Rows that end with <see cref="SolverStatus.NonFinite"/> (their step could shrink no
/// further and was still not finite), <c>[W]</c> bool.</param>
internal sealed record StepDecision(Tensor Dt, Tensor Prev1, Tensor Prev2, Tensor ReachedDtMin, Tensor NonFinite);
