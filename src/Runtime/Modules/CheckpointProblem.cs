using NeuralOde.Solving;
using NeuralOde.Stepping;

namespace NeuralOde.Modules;

/// <summary>Everything the checkpointed solve needs besides tensors: passed to the autograd function as one object.</summary>
/// <param name="Dynamics">The dynamics.</param>
/// <param name="Scheme">The scheme.</param>
/// <param name="Options">The solver options (without output times).</param>
/// <param name="Plan">What is solved and returned: each row's span (the first and last knot) and, unless the plan
/// returns final states only, the output times (the knots from its first output on).</param>
/// <param name="ThrowOnFailure">Whether a failed row makes the forward pass throw.</param>
/// <param name="Every">Iterations per stored checkpoint (1: every accepted step's start state is stored).</param>
/// <param name="OnForward">Receives the forward solve's work.</param>
/// <param name="OnBackward">Receives the backward pass's work.</param>
internal sealed record CheckpointProblem(
    OdeFunc Dynamics,
    RungeKuttaScheme Scheme,
    SolverOptions Options,
    ForwardPlan Plan,
    bool ThrowOnFailure,
    int Every,
    Action<SolveSummary> OnForward,
    Action<SolveSummary> OnBackward);
