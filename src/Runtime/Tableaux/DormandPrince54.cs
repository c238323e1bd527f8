namespace NeuralOde.Tableaux;

/// <summary>
/// The Dormand–Prince 5(4) pair ("DOPRI5", RK5(4)7M, MATLAB's <c>ode45</c>): propagated order 5, embedded
/// order 4, seven stages, FSAL (an accepted step costs six evaluations), with a continuous extension of order 4
/// that takes one extra evaluation in a step that holds an output time.
/// </summary>
/// <remarks>
/// <para>J. R. Dormand, P. J. Prince, "A family of embedded Runge-Kutta formulae", <i>Journal of Computational
/// and Applied Mathematics</i> 6(1) (1980) 19–26, the pair RK5(4)7M.</para>
/// <para>Dense output. Shampine's continuous extension of order 4 (E. Hairer, S. P. Nørsett, G. Wanner, <i>Solving
/// Ordinary Differential Equations I: Nonstiff Problems</i>, 2nd ed., Springer, 1993, §II.6, after L. F. Shampine,
/// "Some practical Runge-Kutta formulas", <i>Mathematics of Computation</i> 46 (1986) 135–150) is, among the
/// interpolants from the seven stages, already the one with the least order-5 error, and at tight tolerances that error
/// exceeds the solution's (3.4× its error at t1 on y′ = 1 + y² at 10⁻¹⁰). Order 5 cannot be had with one more stage:
/// with the seven stages, the weight vectors Φ(t) of the 17 trees up to order 5 span 7 dimensions, and adding the
/// targets θ^|t|/γ(t) makes 9, so it takes two (M. Calvo, J. I. Montijano, L. Rández, "A fifth-order interpolant for
/// the Dormand and Prince Runge-Kutta method", <i>J. Comput. Appl. Math.</i> 29 (1990) 91–100, use two).</para>
/// <para>This interpolant, derived here, takes one: stage 8 is f at the midpoint of Shampine's interpolant,
/// c₈ = 1/2 and a₈ⱼ = bⱼ^Shampine(1/2) (exact fractions). The quintic bᵢ(θ) over the eight stages then has order 4,
/// ends at B (bᵢ(1) = bᵢ) and is C¹ (b′(0) weights only k₁, b′(1) only the FSAL stage k₇ = f(t + h, y₁)), and among
/// those it minimizes ∫₀¹ Σ_{|t| = 5} (Σᵢ bᵢ(θ)Φᵢ(t) − θ⁵/γ(t))²/σ(t)² dθ, the order-5 error coefficients
/// (an equality-constrained least-squares problem, solved exactly in rationals with sympy by
/// scripts/dense-output/derive.py, which also checks the dimensions above). That integral is 2.2·10⁻⁴,
/// against 5.3·10⁻⁴ for Shampine's; measured at 10⁻¹⁰ (DenseOutputTests) the worst error at 25 output times is 1.3×
/// (y′ = −y), 1.1× (y″ = −y) and 0.8× (y′ = 1 + y²) the error at t1, against 1.9×, 1.1× and 3.4× for Shampine's. The
/// extra stage is evaluated only in a step that holds an output time (<see cref="Stepping.RungeKuttaScheme.EvaluateDenseStages"/>),
/// so a solve without outputs costs what it did.</para>
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

    // The dense output's extra stage 8, evaluated only in a step that holds an output time: f at the midpoint of
    // Shampine's quintic, Y₈ = y + Σⱼ bⱼ(1/2)·hkⱼ with his bⱼ(θ) (the midpoint value of Hairer's DOPRI5 too).
    internal static readonly double[] CDense = [1.0 / 2];

    internal static readonly double[][] ADense =
    [
        [
            6025192743.0 / 60171106304, 0, 51252292925.0 / 130801643196, -2691868925.0 / 90256659456,
            187940372067.0 / 3189068634112, -1776094331.0 / 39487288512, 11237099.0 / 470086768,
        ],
    ];

    // Row i: coefficients of θ, θ², θ³, θ⁴, θ⁵ in b_i(θ); the last row weights the dense stage 8.
    internal static readonly double[][] BTheta =
    [
        [1, -118301919587.0 / 30825182064, 422474566201.0 / 61650364128, -1414572809293.0 / 246601456512, 29.0 / 16],
        [0, 0, 0, 0, 0],
        [0, 7061447508400.0 / 714758909109, -6848269315600.0 / 238252969703, 21510751600900.0 / 714758909109, -4000.0 / 371],
        [0, 6134022525.0 / 1284382586, -695802639325.0 / 30825182064, 1400397395175.0 / 41100242752, -125.0 / 8],
        [0, -911715005043.0 / 544578216464, 10669221809127.0 / 1089156432928, -70494976140939.0 / 4356625731712, 6561.0 / 848],
        [0, 1590575811.0 / 4495339051, -44863975981.0 / 13486017153, 112323866589.0 / 17981356204, -22.0 / 7],
        [0, -515840481.0 / 642191293, 2958254841.0 / 642191293, -5011179532.0 / 642191293, 4],
        [0, -5583154032.0 / 642191293, 21441368752.0 / 642191293, -26133275408.0 / 642191293, 16],
    ];
}
