namespace NeuralOde.Tableaux;

/// <summary>
/// The explicit midpoint rule (Runge's modified Euler method): two stages, order 2, no embedded solution
/// (fixed steps only).
/// </summary>
/// <remarks>
/// C. Runge, "Über die numerische Auflösung von Differentialgleichungen", <i>Mathematische Annalen</i> 46
/// (1895) 167–178, formula for the second-order method with the slope at the midpoint.
/// </remarks>
[ButcherTableau("Midpoint", Order = 2)]
public static partial class Midpoint
{
    internal static readonly double[] C = [0, 1.0 / 2];

    internal static readonly double[][] A =
    [
        [],
        [1.0 / 2],
    ];

    internal static readonly double[] B = [0, 1];
}
