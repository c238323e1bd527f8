using static TorchSharp.torch;

namespace NeuralOde.Stepping;

/// <summary>
/// The right-hand side as a generated step sees it: the slope dy/dt at each row's own time.
/// </summary>
/// <param name="t">Each row's time, <c>[B]</c>.</param>
/// <param name="y">The state, <c>[B, ...]</c>.</param>
/// <returns>The slope, with <paramref name="y"/>'s shape, dtype and device. It must be a tensor the step
/// may own and overwrite: never <paramref name="y"/> itself nor a tensor kept elsewhere.</returns>
public delegate Tensor StageFunction(Tensor t, Tensor y);
