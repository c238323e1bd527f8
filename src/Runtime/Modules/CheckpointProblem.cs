using NeuralOde.Solving;
using NeuralOde.Stepping;

namespace NeuralOde.Modules;

/// <summary>Everything the checkpointed solve needs besides tensors: passed to the autograd function as one object.</summary>
/// <param name="Dynamics">The dynamics.</param>
/// <param name="Scheme">The scheme.</param>
/// <param name="Options">The solver options (without output times).</param>
/// <param name="T0">The start time.</param>
/// <param name="T1">The end time.</param>
/// <param name="ThrowOnFailure">Whether a failed row makes the forward pass throw.</param>
/// <param name="Every">Iterations per stored checkpoint (1: every accepted step's start state is stored).</param>
/// <param name="OnForward">Receives the forward solve's work.</param>
/// <param name="OnBackward">Receives the backward pass's work.</param>
internal sealed record CheckpointProblem(
    OdeFunc Dynamics,
    RungeKuttaScheme Scheme,
    SolverOptions Options,
    double T0,
    double T1,
    bool ThrowOnFailure,
    int Every,
    Action<SolveSummary> OnForward,
    Action<SolveSummary> OnBackward);
