namespace NeuralOde.Tableaux;

/// <summary>
/// The Dormand–Prince 5(4) pair ("DOPRI5", RK5(4)7M, MATLAB's <c>ode45</c>): propagated order 5, embedded
/// order 4, seven stages, FSAL (an accepted step costs six evaluations), with Shampine's continuous extension
/// of order 4 as dense output.
/// </summary>
/// <remarks>
/// <para>J. R. Dormand, P. J. Prince, "A family of embedded Runge-Kutta formulae", <i>Journal of Computational
/// and Applied Mathematics</i> 6(1) (1980) 19–26, the pair RK5(4)7M.</para>
/// <para>Dense output: E. Hairer, S. P. Nørsett, G. Wanner, <i>Solving Ordinary Differential Equations I:
/// Nonstiff Problems</i>, 2nd ed., Springer, 1993, §II.6 (the continuous extension of DOPRI5 given there,
/// after L. F. Shampine, "Some practical Runge-Kutta formulas", <i>Mathematics of Computation</i> 46 (1986)
/// 135–150): b₁(θ) = θ²(3−2θ)b₁ + θ(θ−1)² − θ²(θ−1)²·5(2558722523 − 31403016θ)/11282082432, …,
/// b₇(θ) = θ²(θ−1) + θ²(θ−1)²·10(7414447 − 829305θ)/29380423. <c>BTheta</c> holds those polynomials expanded
/// exactly into powers of θ. (Hairer's Fortran code DOPRI5 evaluates a quartic variant, with each linear factor
/// taken at θ = 1/2; both have order 4 and coincide at θ = 0, 1/2 and 1.)</para>
/// </remarks>
[ButcherTableau("DOPRI5", Order = 5, EmbeddedOrder = 4, DenseOrder = 4)]
public static partial class DormandPrince54
{
    internal static readonly double[] C = [0, 1.0 / 5, 3.0 / 10, 4.0 / 5, 8.0 / 9, 1, 1];

    internal static readonly double[][] A =
    [
        [],
        [1.0 / 5],
        [3.0 / 40, 9.0 / 40],
        [44.0 / 45, -56.0 / 15, 32.0 / 9],
        [19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729],
        [9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656],
        [35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84],
    ];

    internal static readonly double[] B = [35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84, 0];

    internal static readonly double[] BHat =
        [5179.0 / 57600, 0, 7571.0 / 16695, 393.0 / 640, -92097.0 / 339200, 187.0 / 2100, 1.0 / 40];

    // Row i: coefficients of θ, θ², θ³, θ⁴, θ⁵ in b_i(θ).
    internal static readonly double[][] BTheta =
    [
        [1, -4034104133.0 / 1410260304, 105330401.0 / 33982176, -13107642775.0 / 11282082432, 6542295.0 / 470086768],
        [0, 0, 0, 0, 0],
        [0, 132343189600.0 / 32700410799, -833316000.0 / 131326951, 91412856700.0 / 32700410799, -523383600.0 / 10900136933],
        [0, -115792950.0 / 29380423, 185270875.0 / 16991088, -12653452475.0 / 1880347072, 98134425.0 / 235043384],
        [0, 70805911779.0 / 24914598704, -4531260609.0 / 600351776, 988140236175.0 / 199316789632, -14307999165.0 / 24914598704],
        [0, -331320693.0 / 205662961, 31361737.0 / 7433601, -2426908385.0 / 822651844, 97305120.0 / 205662961],
        [0, 44764047.0 / 29380423, -1532549.0 / 353981, 90730570.0 / 29380423, -8293050.0 / 29380423],
    ];
}
