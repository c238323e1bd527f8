namespace NeuralOde.Tableaux;

/// <summary>
/// The Bogacki–Shampine 3(2) pair ("BS32", MATLAB's <c>ode23</c>): propagated order 3, embedded order 2, four
/// stages, FSAL (the fourth stage is the first stage of the next step, so an accepted step costs three
/// evaluations).
/// </summary>
/// <remarks>
/// P. Bogacki, L. F. Shampine, "A 3(2) pair of Runge–Kutta formulas", <i>Applied Mathematics Letters</i> 2(4)
/// (1989) 321–325.
/// </remarks>
[ButcherTableau("BS32", Order = 3, EmbeddedOrder = 2)]
public static partial class BogackiShampine32
{
    internal static readonly double[] C = [0, 1.0 / 2, 3.0 / 4, 1];

    internal static readonly double[][] A =
    [
        [],
        [1.0 / 2],
        [0, 3.0 / 4],
        [2.0 / 9, 1.0 / 3, 4.0 / 9],
    ];

    internal static readonly double[] B = [2.0 / 9, 1.0 / 3, 4.0 / 9, 0];

    internal static readonly double[] BHat = [7.0 / 24, 1.0 / 4, 1.0 / 3, 1.0 / 8];
}
