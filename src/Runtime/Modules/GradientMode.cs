namespace NeuralOde.Modules;

/// <summary>How an <see cref="OdeBlock"/> computes gradients.</summary>
public enum GradientMode
{
    /// <summary>Backpropagate through every operation of the solver: exact gradients of the discrete solve, memory
    /// that grows with the number of steps.</summary>
    Backprop,

    /// <summary>The continuous adjoint: the forward solve records nothing, and the backward pass integrates the
    /// adjoint system backwards in time with the same scheme. Memory does not grow with the number of steps;
    /// gradients match the exact ones to the backward solve's tolerance.</summary>
    Adjoint,

    /// <summary>Checkpointed backpropagation: the forward solve records only each accepted step's start state, time
    /// and size (no graph); the backward pass recomputes the steps one at a time in reverse, each with autograd. The
    /// gradient is <see cref="Backprop"/>'s (the same steps, the same arithmetic); memory is one state per accepted
    /// step instead of every stage's activations, at the cost of evaluating each step again. Outputs at times
    /// (<see cref="OdeBlock.Trajectory"/>, <see cref="OdeBlock.OutputTimes"/>) are replayed with the steps that hold
    /// them; events are not supported in this mode.</summary>
    Checkpointed,
}
