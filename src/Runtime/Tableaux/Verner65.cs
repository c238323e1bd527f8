namespace NeuralOde.Tableaux;

/// <summary>
/// Verner's 6(5) pair of 1978, the one implemented in DVERK: the sixth-order solution is propagated and the
/// fifth-order one (which uses only the first six stages) estimates the error. Eight stages, order 6, embedded
/// order 5, not FSAL.
/// </summary>
/// <remarks>
/// J. H. Verner, "Explicit Runge-Kutta methods with estimates of the local truncation error", <i>SIAM Journal on
/// Numerical Analysis</i> 15(4) (1978) 772–790; the coefficients as implemented in T. E. Hull, W. H. Enright,
/// K. R. Jackson, "User's guide for DVERK — a subroutine for solving non-stiff ODEs", Technical Report 100,
/// Department of Computer Science, University of Toronto, 1976 (c = 0, 1/6, 4/15, 2/3, 5/6, 1, 1/15, 1).
/// </remarks>
[ButcherTableau("Verner65", Order = 6, EmbeddedOrder = 5)]
public static partial class Verner65
{
    internal static readonly double[] C = [0, 1.0 / 6, 4.0 / 15, 2.0 / 3, 5.0 / 6, 1, 1.0 / 15, 1];

    internal static readonly double[][] A =
    [
        [],
        [1.0 / 6],
        [4.0 / 75, 16.0 / 75],
        [5.0 / 6, -8.0 / 3, 5.0 / 2],
        [-165.0 / 64, 55.0 / 6, -425.0 / 64, 85.0 / 96],
        [12.0 / 5, -8.0, 4015.0 / 612, -11.0 / 36, 88.0 / 255],
        [-8263.0 / 15000, 124.0 / 75, -643.0 / 680, -81.0 / 250, 2484.0 / 10625, 0],
        [3501.0 / 1720, -300.0 / 43, 297275.0 / 52632, -319.0 / 2322, 24068.0 / 84065, 0, 3850.0 / 26703],
    ];

    internal static readonly double[] B = [3.0 / 40, 0, 875.0 / 2244, 23.0 / 72, 264.0 / 1955, 0, 125.0 / 11592, 43.0 / 616];

    internal static readonly double[] BHat = [13.0 / 160, 0, 2375.0 / 5984, 5.0 / 16, 12.0 / 85, 3.0 / 44, 0, 0];
}
