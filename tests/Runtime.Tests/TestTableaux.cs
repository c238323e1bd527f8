namespace NeuralOde.Tests;

/// <summary>
/// A deliberately degenerate first-order scheme whose second stage is evaluated at the step's own start state
/// (c₂ = 0, a₂₁ = 0): the generated step then passes the state itself to the dynamics, which is where a slope that
/// aliases the state would be overwritten by an in-place scale.
/// </summary>
[ButcherTableau("TestRepeatedStart", Order = 1)]
internal static partial class RepeatedStartScheme
{
    internal static readonly double[] C = [0, 0];

    internal static readonly double[][] A = [[], [0]];

    internal static readonly double[] B = [1.0 / 2, 1.0 / 2];
}
