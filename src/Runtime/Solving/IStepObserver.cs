using static TorchSharp.torch;

namespace NeuralOde.Solving;

/// <summary>Lets a caller integrate a quantity alongside the solve without putting it in the per-row state
/// (the adjoint's parameter gradient, which is a sum over rows). It sees each step through its results
/// (<see cref="StepContext.Step"/>: the stage states and scaled slopes), never through the order of the dynamics' calls.</summary>
internal interface IStepObserver
{
    /// <summary>With a shared step size, the observer's error as a sum of squared scaled errors and an element count,
    /// added to the batch norm; null to add nothing.</summary>
    (Tensor SumOfSquares, long Count)? ErrorContribution(StepContext context);

    /// <summary>Called once the accept mask of the step is known, before the state moves on.</summary>
    void Accepted(StepContext context, Tensor accept);
}
