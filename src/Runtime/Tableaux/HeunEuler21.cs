namespace NeuralOde.Tableaux;

/// <summary>
/// The Heun–Euler 2(1) pair: Heun's second-order method (<see cref="Heun"/>) propagated, with the forward Euler
/// step from the same stages as the first-order embedded solution. Two stages, order 2, embedded order 1,
/// not FSAL. Dense output of order 2 from the two stages: b₁(θ) = θ − θ²/2, b₂(θ) = θ²/2.
/// </summary>
/// <remarks>
/// Propagated method: K. Heun, "Neue Methoden zur approximativen Integration der Differentialgleichungen einer
/// unabhängigen Veränderlichen", <i>Zeitschrift für Mathematik und Physik</i> 45 (1900) 23–38. Embedded method:
/// L. Euler, <i>Institutionum calculi integralis</i>, Vol. I, St. Petersburg, 1768. Dense output: the unique
/// quadratic continuous extension of the two stages (order 2 needs Σ bᵢ(θ) = θ and Σ bᵢ(θ) cᵢ = θ²/2); at the
/// tolerances where this pair is used its local error O(h³) is far below the solution's global error.
/// </remarks>
[ButcherTableau("HeunEuler", Order = 2, EmbeddedOrder = 1, DenseOrder = 2)]
public static partial class HeunEuler21
{
    internal static readonly double[] C = [0, 1];

    internal static readonly double[][] A =
    [
        [],
        [1],
    ];

    internal static readonly double[] B = [1.0 / 2, 1.0 / 2];

    internal static readonly double[] BHat = [1, 0];

    // Row i: coefficients of θ, θ² in b_i(θ).
    internal static readonly double[][] BTheta =
    [
        [1, -1.0 / 2],
        [0, 1.0 / 2],
    ];
}
