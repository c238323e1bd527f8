namespace NeuralOde.Tableaux;

/// <summary>
/// The Cash–Karp 5(4) pair: the fifth-order solution is propagated (the usage Cash and Karp recommend and
/// <i>Numerical Recipes</i> adopts) and the fourth-order one estimates the error. Six stages, order 5, embedded
/// order 4, not FSAL.
/// </summary>
/// <remarks>
/// J. R. Cash, A. H. Karp, "A variable order Runge-Kutta method for initial value problems with rapidly varying
/// right-hand sides", <i>ACM Transactions on Mathematical Software</i> 16(3) (1990) 201–222, the embedded
/// 5(4) formulas (the fifth- and fourth-order members of their family); also tabulated in W. H. Press et al.,
/// <i>Numerical Recipes</i>, 2nd ed., 1992, §16.2 (the table of Cash–Karp parameters).
/// </remarks>
[ButcherTableau("CashKarp", Order = 5, EmbeddedOrder = 4)]
public static partial class CashKarp45
{
    internal static readonly double[] C = [0, 1.0 / 5, 3.0 / 10, 3.0 / 5, 1, 7.0 / 8];

    internal static readonly double[][] A =
    [
        [],
        [1.0 / 5],
        [3.0 / 40, 9.0 / 40],
        [3.0 / 10, -9.0 / 10, 6.0 / 5],
        [-11.0 / 54, 5.0 / 2, -70.0 / 27, 35.0 / 27],
        [1631.0 / 55296, 175.0 / 512, 575.0 / 13824, 44275.0 / 110592, 253.0 / 4096],
    ];

    internal static readonly double[] B = [37.0 / 378, 0, 250.0 / 621, 125.0 / 594, 0, 512.0 / 1771];

    internal static readonly double[] BHat =
        [2825.0 / 27648, 0, 18575.0 / 48384, 13525.0 / 55296, 277.0 / 14336, 1.0 / 4];
}
