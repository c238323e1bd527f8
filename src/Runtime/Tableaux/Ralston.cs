namespace NeuralOde.Tableaux;

/// <summary>
/// Ralston's second-order method (c₂ = 2/3, minimum error bound among two-stage second-order methods): two
/// stages, order 2, no embedded solution (fixed steps only).
/// </summary>
/// <remarks>
/// A. Ralston, "Runge-Kutta methods with minimum error bounds", <i>Mathematics of Computation</i> 16 (1962)
/// 431–437, the optimal second-order method (α₂ = 2/3).
/// </remarks>
[ButcherTableau("Ralston", Order = 2)]
public static partial class Ralston
{
    internal static readonly double[] C = [0, 2.0 / 3];

    internal static readonly double[][] A =
    [
        [],
        [2.0 / 3],
    ];

    internal static readonly double[] B = [1.0 / 4, 3.0 / 4];
}
