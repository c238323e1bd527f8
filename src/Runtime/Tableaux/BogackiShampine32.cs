namespace NeuralOde.Tableaux;

/// <summary>
/// The Bogacki–Shampine 3(2) pair ("BS32", MATLAB's <c>ode23</c>): propagated order 3, embedded order 2, four
/// stages, FSAL (the fourth stage is the first stage of the next step, so an accepted step costs three
/// evaluations), with the pair's cubic Hermite continuous extension of order 3 as dense output.
/// </summary>
/// <remarks>
/// P. Bogacki, L. F. Shampine, "A 3(2) pair of Runge–Kutta formulas", <i>Applied Mathematics Letters</i> 2(4)
/// (1989) 321–325. Dense output: the cubic Hermite interpolant through y₀, f₀, y₁ and f₁ = k₄ that the paper
/// pairs with the formula, written as bᵢ(θ) polynomials of the stages (it is the unique continuous extension of
/// order 3 of degree 3): b₁(θ) = θ − 4/3 θ² + 5/9 θ³, b₂ = θ² − 2/3 θ³, b₃ = 4/3 θ² − 8/9 θ³, b₄ = −θ² + θ³.
/// </remarks>
[ButcherTableau("BS32", Order = 3, EmbeddedOrder = 2, DenseOrder = 3)]
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

    // Row i: coefficients of θ, θ², θ³ in b_i(θ).
    internal static readonly double[][] BTheta =
    [
        [1, -4.0 / 3, 5.0 / 9],
        [0, 1, -2.0 / 3],
        [0, 4.0 / 3, -8.0 / 9],
        [0, -1, 1],
    ];
}
