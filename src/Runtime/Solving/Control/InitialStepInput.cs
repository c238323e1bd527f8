using static TorchSharp.torch;

namespace NeuralOde.Solving.Control;

/// <summary>What the initial-step estimate reads of the rows at their start.</summary>
/// <param name="Y">The initial states, <c>[W, ...]</c>.</param>
/// <param name="K1">The slopes f(t0, y0), <c>[W, ...]</c>.</param>
/// <param name="T">Each row's time, <c>[W]</c> float64.</param>
/// <param name="T0">Each row's start, <c>[W]</c> float64.</param>
/// <param name="T1">Each row's end, <c>[W]</c> float64.</param>
/// <param name="Direction">Each row's direction, ±1, <c>[W]</c> float64.</param>
/// <param name="Rtol">Each row's relative tolerance, <c>[W]</c>, state dtype.</param>
/// <param name="Atol">Each row's absolute tolerance, <c>[W]</c>, state dtype.</param>
/// <param name="Running">Which rows are running, <c>[W]</c> bool.</param>
internal sealed record InitialStepInput(Tensor Y, Tensor K1, Tensor T, Tensor T0, Tensor T1, Tensor Direction, Tensor Rtol, Tensor Atol, Tensor Running);
