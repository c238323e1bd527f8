namespace NeuralOde.Tableaux;

/// <summary>
/// Fehlberg's 4(5) pair ("RKF45") as he published it: the fourth-order solution is propagated and the
/// fifth-order one serves only to estimate the error. Six stages, order 4, embedded order 5, not FSAL, with a
/// continuous extension of order 4 as dense output.
/// </summary>
/// <remarks>
/// E. Fehlberg, "Low-order classical Runge-Kutta formulas with stepsize control and their application to some
/// heat transfer problems", NASA Technical Report R-315, 1969, Table III (RK4(5), Formula 2).
/// <para>Dense output: not Horn's (M. K. Horn, "Fourth- and fifth-order, scaled Runge–Kutta algorithms for treating
/// dense output", <i>SIAM Journal on Numerical Analysis</i> 20(3) (1983) 558–568, whose scaled extensions take
/// extra stages), but a quartic one derived here from the six stages and the end slope f(t + h, y₁). Without the end
/// slope no polynomial in the stages reaches order 4. With it the quartics of order 4 that are C¹ (b′(0) weights only
/// k₁ and b′(1) only the end slope) form a one-parameter family; the parameter, −237441/134695 (the θ² coefficient of
/// b₆), minimizes the L² norm over θ ∈ [0, 1] of the order-5 residuals Σ bᵢ(θ)Φᵢ(t) − θ⁵/γ(t). The coefficients are
/// exact; the generator checks every continuous order condition up to 4. The last row of <c>BTheta</c> weights the end slope f(t + h, y₁), which the solver evaluates anyway as the
/// next step's first stage, so the dense output costs no evaluation.</para>
/// </remarks>
[ButcherTableau("RKF45", Order = 4, EmbeddedOrder = 5, DenseOrder = 4)]
public static partial class Fehlberg45
{
    internal static readonly double[] C = [0, 1.0 / 4, 3.0 / 8, 12.0 / 13, 1, 1.0 / 2];

    internal static readonly double[][] A =
    [
        [],
        [1.0 / 4],
        [3.0 / 32, 9.0 / 32],
        [1932.0 / 2197, -7200.0 / 2197, 7296.0 / 2197],
        [439.0 / 216, -8.0, 3680.0 / 513, -845.0 / 4104],
        [-8.0 / 27, 2.0, -3544.0 / 2565, 1859.0 / 4104, -11.0 / 40],
    ];

    internal static readonly double[] B = [25.0 / 216, 0, 1408.0 / 2565, 2197.0 / 4104, -1.0 / 5, 0];

    internal static readonly double[] BHat = [16.0 / 135, 0, 6656.0 / 12825, 28561.0 / 56430, -9.0 / 50, 2.0 / 55];

    // Row i: coefficients of θ, θ², θ³, θ⁴ in b_i(θ); the last row weights the end slope f(t + h, y₁).
    internal static readonly double[][] BTheta =
    [
        [1, -1475077.0 / 587760, 6565433.0 / 2644920, -1510921.0 / 1763280],
        [0, 0, 0, 0],
        [0, 5868096.0 / 1163275, -247913344.0 / 31408425, 35571904.0 / 10469475],
        [0, -417963871.0 / 122841840, 4945374499.0 / 552788280, -1845741443.0 / 368525520],
        [0, 276849.0 / 244900, -374809.0 / 122450, 423789.0 / 244900],
        [0, -237441.0 / 134695, 474882.0 / 134695, -237441.0 / 134695],
        [0, 3.0 / 2, -4, 5.0 / 2],
    ];
}
