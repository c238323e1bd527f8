namespace NeuralOde.Tableaux;

/// <summary>
/// Verner's 6(5) pair of 1978, the one implemented in DVERK: the sixth-order solution is propagated and the
/// fifth-order one (which uses only the first six stages) estimates the error. Eight stages, order 6, embedded
/// order 5, not FSAL, with a continuous extension of order 4 as dense output.
/// </summary>
/// <remarks>
/// J. H. Verner, "Explicit Runge-Kutta methods with estimates of the local truncation error", <i>SIAM Journal on
/// Numerical Analysis</i> 15(4) (1978) 772–790; the coefficients as implemented in T. E. Hull, W. H. Enright,
/// K. R. Jackson, "User's guide for DVERK — a subroutine for solving non-stiff ODEs", Technical Report 100,
/// Department of Computer Science, University of Toronto, 1976 (c = 0, 1/6, 4/15, 2/3, 5/6, 1, 1/15, 1).
/// <para>Dense output: the continuous extensions published for this pair (W. H. Enright, K. R. Jackson,
/// S. P. Nørsett, P. G. Thomsen, "Interpolants for Runge–Kutta formulas", <i>ACM TOMS</i> 12(3) (1986) 193–218) and
/// Verner's own interpolants (for his later 6(5) pairs) take extra stages. This sextic is derived here from the eight
/// stages and the end slope f(t + h, y₁): with them no polynomial reaches order 5, so it satisfies every continuous
/// order condition up to order 4, the four of order 5 that can also hold ([[[[τ]]]], [[[τ²]]], [[[τ]τ]], [[τ³]]), and
/// the tall tree of order 6 ([[[[[τ]]]]]), which makes it exact to sixth order on linear problems; those conditions
/// fix it uniquely. It is C¹: b′(0) weights only k₁ and b′(1) only the end slope. The last row of <c>BTheta</c> weights the end slope f(t + h, y₁), which the solver evaluates anyway as the
/// next step's first stage, so the dense output costs no evaluation.</para>
/// </remarks>
[ButcherTableau("Verner65", Order = 6, EmbeddedOrder = 5, DenseOrder = 4)]
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

    // Row i: coefficients of θ, θ², …, θ⁶ in b_i(θ); the last row weights the end slope f(t + h, y₁).
    internal static readonly double[][] BTheta =
    [
        [1, -219.0 / 80, 39.0 / 20, 113.0 / 160, -69.0 / 80, 3.0 / 160],
        [0, 0, 0, 0, 0, 0],
        [0, 40625.0 / 8976, -19625.0 / 2244, 105625.0 / 17952, -3875.0 / 2992, 125.0 / 5984],
        [0, -109.0 / 72, 109.0 / 18, -863.0 / 144, 43.0 / 24, -1.0 / 48],
        [0, -156.0 / 1955, -2016.0 / 1955, 5856.0 / 1955, -3456.0 / 1955, 36.0 / 1955],
        [0, 9.0 / 22, -18.0 / 11, 9.0 / 4, -27.0 / 22, 9.0 / 44],
        [0, -125.0 / 207, 8125.0 / 2898, -3125.0 / 828, 3125.0 / 1932, -125.0 / 3864],
        [0, 0, -215.0 / 154, 129.0 / 44, -387.0 / 308, -129.0 / 616],
        [0, 0, 2, -5, 3, 0],
    ];
}
