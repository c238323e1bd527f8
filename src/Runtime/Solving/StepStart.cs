using static TorchSharp.torch;

namespace NeuralOde.Solving;

/// <summary>What a step observer is told of a step before its stages are evaluated: the rows and their steps, so that
/// it may weight what it integrates by each row's step at evaluation time (the adjoint's parameter gradient).</summary>
/// <param name="Dt">Each row's attempted step, <c>[W]</c>, in the state's dtype: the very tensor the step is taken with
/// (and <see cref="StepContext.Dt"/> is).</param>
/// <param name="Active">Which rows of the work set are running, <c>[W]</c> bool.</param>
/// <param name="SmallestStep">The least |dt| over the running rows (+∞ when none runs).</param>
/// <param name="LargestStep">The greatest |dt| over the running rows (0 when none runs).</param>
internal sealed record StepStart(Tensor Dt, Tensor Active, double SmallestStep, double LargestStep);
