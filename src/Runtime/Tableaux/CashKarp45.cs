namespace NeuralOde.Tableaux;

/// <summary>
/// The Cash–Karp 5(4) pair: the fifth-order solution is propagated (the usage Cash and Karp recommend and
/// <i>Numerical Recipes</i> adopts) and the fourth-order one estimates the error. Six stages, order 5, embedded
/// order 4, not FSAL, with a continuous extension of order 4 as dense output.
/// </summary>
/// <remarks>
/// J. R. Cash, A. H. Karp, "A variable order Runge-Kutta method for initial value problems with rapidly varying
/// right-hand sides", <i>ACM Transactions on Mathematical Software</i> 16(3) (1990) 201–222, the embedded
/// 5(4) formulas (the fifth- and fourth-order members of their family); also tabulated in W. H. Press et al.,
/// <i>Numerical Recipes</i>, 2nd ed., 1992, §16.2 (the table of Cash–Karp parameters).
/// <para>Dense output: the pair has no published continuous extension; this quintic is derived here from the six
/// stages and the end slope f(t + h, y₁) (without the end slope no polynomial in the stages reaches order 4, and none
/// reaches order 5 even with it). It is the unique quintic that satisfies every continuous order condition up to
/// order 4 and also the one of the tall tree of order 5, [[[[τ]]]] (Σ bᵢ(θ) aᵢⱼ aⱼₖ aₖₗ cₗ = θ⁵/120), which makes it
/// exact to fifth order on linear problems, where the propagated solution's error is smallest. It is C¹: b′(0)
/// weights only k₁ and b′(1) only the end slope. The last row of <c>BTheta</c> weights the end slope f(t + h, y₁), which the solver evaluates anyway as the
/// next step's first stage, so the dense output costs no evaluation.</para>
/// </remarks>
[ButcherTableau("CashKarp", Order = 5, EmbeddedOrder = 4, DenseOrder = 4)]
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

    // Row i: coefficients of θ, θ², θ³, θ⁴, θ⁵ in b_i(θ); the last row weights the end slope f(t + h, y₁).
    internal static readonly double[][] BTheta =
    [
        [1, -55.0 / 21, 527.0 / 189, -155.0 / 126, 10.0 / 63],
        [0, 0, 0, 0, 0],
        [0, 500.0 / 161, -1000.0 / 189, 4750.0 / 1449, -1000.0 / 1449],
        [0, 125.0 / 132, 125.0 / 594, -875.0 / 396, 125.0 / 99],
        [0, 15.0 / 28, -5.0 / 14, -25.0 / 28, 5.0 / 7],
        [0, -6144.0 / 1771, 512.0 / 77, -2560.0 / 1771, -2560.0 / 1771],
        [0, 3.0 / 2, -4, 5.0 / 2, 0],
    ];
}
