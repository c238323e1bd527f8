using static TorchSharp.torch;

namespace NeuralOde.Solving.Control;

/// <summary>What one step attempt did, per row of the work set: the input of <see cref="StepController.Update"/>.</summary>
/// <param name="ErrorNorm">The error norm, <c>[W]</c>, state dtype (the batch's under a shared step).</param>
/// <param name="Finite">Whether the decision's step was finite, <c>[W]</c> bool (the batch's under a shared step).</param>
/// <param name="RowFinite">Whether each row's own step was finite, <c>[W]</c> bool.</param>
/// <param name="Accept">Which rows accepted, <c>[W]</c> bool.</param>
/// <param name="Running">Which rows stepped and are still running after it, <c>[W]</c> bool.</param>
/// <param name="Attempted">The signed step attempted (clipped at t1), <c>[W]</c> float64.</param>
/// <param name="Planned">The signed step planned before the clip, <c>[W]</c> float64.</param>
/// <param name="TNew">Each row's time after the attempt, <c>[W]</c> float64.</param>
/// <param name="T1">Each row's end, <c>[W]</c> float64.</param>
/// <param name="Direction">Each row's direction, ±1, <c>[W]</c> float64.</param>
/// <param name="Prev1">The error norm of each row's last accepted step, <c>[W]</c>.</param>
/// <param name="Prev2">The one before, <c>[W]</c>.</param>
internal sealed record StepOutcome(
    Tensor ErrorNorm,
    Tensor Finite,
    Tensor RowFinite,
    Tensor Accept,
    Tensor Running,
    Tensor Attempted,
    Tensor Planned,
    Tensor TNew,
    Tensor T1,
    Tensor Direction,
    Tensor Prev1,
    Tensor Prev2);
