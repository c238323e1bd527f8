using NeuralOde.Stepping;
using static TorchSharp.torch;

namespace NeuralOde.Solving;

/// <summary>What a step observer sees of one step of the running rows.</summary>
/// <param name="Index">The global row of each stepped row, <c>[Ba]</c>.</param>
/// <param name="T">Each stepped row's time at the step's start, <c>[Ba]</c>, in the state's dtype (as the dynamics see it).</param>
/// <param name="Dt">Each stepped row's step, <c>[Ba]</c>, in the state's dtype (as the step used it).</param>
/// <param name="Y">The state at the step's start, <c>[Ba, ...]</c>.</param>
/// <param name="Step">The step's results: the new state, the error, the stage states the slopes were evaluated at and the scaled slopes.</param>
/// <param name="Active">Which stepped rows are running, <c>[Ba]</c> (all of them when compacted).</param>
/// <param name="ClockStart">Each stepped row's float64 clock at the step's start, <c>[Ba]</c>.</param>
/// <param name="ClockEnd">Each stepped row's float64 clock at the step's end, <c>[Ba]</c> (exactly t1 for a last step).</param>
internal sealed record StepContext(Tensor Index, Tensor T, Tensor Dt, Tensor Y, RungeKuttaStep Step, Tensor Active, Tensor? ClockStart = null, Tensor? ClockEnd = null);
