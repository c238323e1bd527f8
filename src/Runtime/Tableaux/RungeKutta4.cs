namespace NeuralOde.Tableaux;

/// <summary>
/// The classical fourth-order Runge–Kutta method ("RK4"): four stages, order 4, no embedded solution
/// (fixed steps only).
/// </summary>
/// <remarks>
/// W. Kutta, "Beitrag zur näherungsweisen Integration totaler Differentialgleichungen", <i>Zeitschrift für
/// Mathematik und Physik</i> 46 (1901) 435–453, the fourth-order formula with c = 0, 1/2, 1/2, 1.
/// </remarks>
[ButcherTableau("RK4", Order = 4)]
public static partial class RungeKutta4
{
    internal static readonly double[] C = [0, 1.0 / 2, 1.0 / 2, 1];

    internal static readonly double[][] A =
    [
        [],
        [1.0 / 2],
        [0, 1.0 / 2],
        [0, 0, 1],
    ];

    internal static readonly double[] B = [1.0 / 6, 1.0 / 3, 1.0 / 3, 1.0 / 6];
}
