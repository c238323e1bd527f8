using static TorchSharp.torch;

namespace NeuralOde.Solving;

/// <summary>Lets a caller integrate a quantity alongside the solve without putting it in the per-row state
/// (the adjoint's parameter gradient, which is a sum over rows).</summary>
internal interface IStepObserver
{
    /// <summary>Called right before a step's stages are evaluated (the dynamics' calls until <see cref="Accepted"/>
    /// are the stages 2…s, in order).</summary>
    /// <param name="rows">The global row of each row of the work set, <c>[W]</c>.</param>
    /// <param name="dt">Each row's step, <c>[W]</c>.</param>
    /// <param name="active">Which rows are running, <c>[W]</c>.</param>
    void BeginStep(Tensor rows, Tensor dt, Tensor active);

    /// <summary>With a shared step size, the observer's error as a sum of squared scaled errors and an element count,
    /// added to the batch norm; null to add nothing.</summary>
    (Tensor SumOfSquares, long Count)? ErrorContribution(StepContext context);

    /// <summary>Called once the accept mask of the step is known, before the state moves on.</summary>
    void Accepted(StepContext context, Tensor accept);
}
