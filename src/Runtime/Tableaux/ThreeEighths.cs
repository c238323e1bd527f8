namespace NeuralOde.Tableaux;

/// <summary>
/// Kutta's 3/8 rule (c = 0, 1/3, 2/3, 1; b = 1/8, 3/8, 3/8, 1/8): four stages, order 4, no embedded solution
/// (fixed steps only).
/// </summary>
/// <remarks>
/// W. Kutta, "Beitrag zur näherungsweisen Integration totaler Differentialgleichungen", <i>Zeitschrift für
/// Mathematik und Physik</i> 46 (1901) 435–453, the fourth-order formula related to Simpson's 3/8 rule.
/// </remarks>
[ButcherTableau("ThreeEighths", Order = 4)]
public static partial class ThreeEighths
{
    internal static readonly double[] C = [0, 1.0 / 3, 2.0 / 3, 1];

    internal static readonly double[][] A =
    [
        [],
        [1.0 / 3],
        [-1.0 / 3, 1],
        [1, -1, 1],
    ];

    internal static readonly double[] B = [1.0 / 8, 3.0 / 8, 3.0 / 8, 1.0 / 8];
}
