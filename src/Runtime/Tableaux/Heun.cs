namespace NeuralOde.Tableaux;

/// <summary>
/// Heun's second-order method (the explicit trapezoidal rule): two stages, order 2, no embedded solution
/// (fixed steps only). <see cref="HeunEuler21"/> is the same method with Euler's method embedded.
/// </summary>
/// <remarks>
/// K. Heun, "Neue Methoden zur approximativen Integration der Differentialgleichungen einer unabhängigen
/// Veränderlichen", <i>Zeitschrift für Mathematik und Physik</i> 45 (1900) 23–38, the second-order formula.
/// </remarks>
[ButcherTableau("Heun", Order = 2)]
public static partial class Heun
{
    internal static readonly double[] C = [0, 1];

    internal static readonly double[][] A =
    [
        [],
        [1],
    ];

    internal static readonly double[] B = [1.0 / 2, 1.0 / 2];
}
