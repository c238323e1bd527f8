using static TorchSharp.torch;

namespace NeuralOde.Demo.Bench;

/// <summary>A problem that <c>bench-memory</c> solves: a batch of independent rows with a reference at the end time.</summary>
internal interface IMemoryProblem : IDisposable
{
    /// <summary>Gets the initial state, <c>[B, D]</c>.</summary>
    Tensor Y0 { get; }

    /// <summary>Evaluates dy/dt for the rows the solver passes.</summary>
    /// <param name="t">Each row's time, <c>[n]</c>.</param>
    /// <param name="y">The rows' states, <c>[n, D]</c>.</param>
    /// <param name="rows">The rows' indices in the batch, <c>[n]</c>.</param>
    /// <returns>dy/dt, <c>[n, D]</c>.</returns>
    Tensor F(Tensor t, Tensor y, Tensor rows);

    /// <summary>The reference state at <paramref name="t1"/>, in float64.</summary>
    /// <param name="t1">The end time.</param>
    /// <returns>The reference, <c>[B, D]</c>.</returns>
    Tensor Reference(double t1) => Reference(t1, 0, Y0.shape[0]);

    /// <summary>The reference state of rows <paramref name="start"/> … <paramref name="start"/> + <paramref name="length"/>
    /// − 1 at <paramref name="t1"/>, in float64.</summary>
    /// <param name="t1">The end time.</param>
    /// <param name="start">The first row.</param>
    /// <param name="length">The number of rows.</param>
    /// <returns>The reference, <c>[length, D]</c>.</returns>
    Tensor Reference(double t1, long start, long length);
}
