using NeuralOde.Solving;
using static TorchSharp.torch;

namespace NeuralOde.Modules;

/// <summary>
/// What an <see cref="OdeBlock"/> solves and returns, in terms the adjoint can walk back: the knots are the times
/// at which the backward pass stops (each row's start, then every output time), the outputs are the states at the
/// knots from <see cref="FirstOutput"/> on.
/// </summary>
/// <param name="Knots">The times, <c>[B, K]</c>, monotone in every row: the start, then the output times.</param>
/// <param name="FirstOutput">The knot of the first output: 0 when the start is an output (a trajectory), else 1.</param>
/// <param name="FinalOnly">Whether the output is the last knot's state alone, <c>[B, ...]</c>, rather than the states
/// at the knots, <c>[B, K − FirstOutput, ...]</c>.</param>
/// <param name="Solve">The forward solve of given initial states, <c>[B, ...]</c>.</param>
internal sealed record ForwardPlan(TimeGrid Knots, int FirstOutput, bool FinalOnly, Func<Tensor, OdeSolution> Solve);
