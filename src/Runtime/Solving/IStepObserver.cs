using static TorchSharp.torch;

namespace NeuralOde.Solving;

/// <summary>Lets a caller integrate a quantity alongside the solve without putting it in the per-row state
/// (the adjoint's parameter gradient, which is a sum over rows). It sees each step through its results
/// (<see cref="StepContext.Step"/>: the stage states and scaled slopes); the solver also tells it when a step starts and
/// which stage each of the step's evaluations is (counting the step's calls: a generated step evaluates its stages in
/// order), so that it may prepare each evaluation, but what it integrates comes from the step's results.</summary>
internal interface IStepObserver
{
    /// <summary>Called once per step before its stages are evaluated (after the first slope, before the dynamics'
    /// calls of the step itself); the step's <see cref="Accepted"/> follows. Nothing by default.</summary>
    void Starting(StepStart start)
    {
    }

    /// <summary>Called just before each of the step's own evaluations of the dynamics (between <see cref="Starting"/> and
    /// <see cref="Accepted"/>), with the tableau stage it evaluates: 1 … s − 1, 0-based (the first slope is given). A
    /// generated step evaluates its stages in order, each from the ones before it. Nothing by default.</summary>
    void Evaluating(int stage)
    {
    }

    /// <summary>With a shared step size, the observer's error as a sum of squared scaled errors and an element count,
    /// added to the batch norm; null to add nothing.</summary>
    (Tensor SumOfSquares, long Count)? ErrorContribution(StepContext context);

    /// <summary>Called once the accept mask of the step is known, before the state moves on.</summary>
    void Accepted(StepContext context, Tensor accept);
}
