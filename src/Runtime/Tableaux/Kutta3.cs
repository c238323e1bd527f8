namespace NeuralOde.Tableaux;

/// <summary>
/// Kutta's third-order method (c = 0, 1/2, 1; b = 1/6, 2/3, 1/6): three stages, order 3, no embedded solution
/// (fixed steps only).
/// </summary>
/// <remarks>
/// W. Kutta, "Beitrag zur näherungsweisen Integration totaler Differentialgleichungen", <i>Zeitschrift für
/// Mathematik und Physik</i> 46 (1901) 435–453, the third-order formula related to Simpson's rule.
/// </remarks>
[ButcherTableau("Kutta3", Order = 3)]
public static partial class Kutta3
{
    internal static readonly double[] C = [0, 1.0 / 2, 1];

    internal static readonly double[][] A =
    [
        [],
        [1.0 / 2],
        [-1, 2.0],
    ];

    internal static readonly double[] B = [1.0 / 6, 2.0 / 3, 1.0 / 6];
}
