namespace NeuralOde.Tableaux;

/// <summary>
/// Tsitouras' 5(4) pair ("Tsit5"): propagated order 5, embedded order 4, seven stages, FSAL (an accepted step
/// costs six evaluations), with the paper's continuous extension of order 4 as dense output. Its coefficients
/// are published as decimals, so they are declared as decimals.
/// </summary>
/// <remarks>
/// <para>Ch. Tsitouras, "Runge–Kutta pairs of order 5(4) satisfying only the first column simplifying
/// assumption", <i>Computers &amp; Mathematics with Applications</i> 62(2) (2011) 770–775,
/// doi:10.1016/j.camwa.2011.06.002, Table 1 (coefficients) and the interpolant b<sub>i</sub>(θ) given with it.</para>
/// <para>How the declaration follows the paper: c, a<sub>ij</sub> (j ≥ 2) and b carry the paper's digits. The
/// first column is fixed by the row sums, a<sub>i1</sub> = c<sub>i</sub> − Σ<sub>j≥2</sub> a<sub>ij</sub>, and is
/// written as the exact decimal of that difference. The row the paper gives for the embedded method holds the
/// differences b<sub>i</sub> − b̂<sub>i</sub>, whose last entry must read −1/66 (as OrdinaryDiffEq, torchdiffeq and
/// SpECTRE also read it); <c>BHat</c> is b minus that row, as exact decimals, with b̂₇ = 1/66. The paper prints
/// b<sub>i</sub>(θ) factored, with decimal roots; <c>BTheta</c> holds them expanded exactly into powers of θ and
/// rounded to 20 significant digits (the θ⁴ coefficients are the paper's leading factors as printed), except that
/// the θ coefficient of b₁(θ) is written as its design value 1 (the expansion gives 1 − 2.6·10⁻¹⁷ from the
/// rounded roots; both are 1.0 as a double).</para>
/// </remarks>
[ButcherTableau("Tsit5", Order = 5, EmbeddedOrder = 4, DenseOrder = 4)]
public static partial class Tsitouras54
{
    internal static readonly double[] C = [0, 0.161, 0.327, 0.9, 0.9800255409045097, 1, 1];

    internal static readonly double[][] A =
    [
        [],
        [0.161],
        [-0.0084806554923570, 0.3354806554923570],
        [2.897153057105494, -6.359448489975075, 4.362295432869581],
        [5.32586482843925895, -11.74888356406283, 7.495539342889836, -0.09249506636175525],
        [5.86145544294642038, -12.92096931784711, 8.159367898576159, -0.07158497328140100, -0.02826905039406838],
        [0.09646076681806523, 0.01, 0.4798896504144996, 1.379008574103742, -3.290069515436081, 2.324710524099774],
    ];

    internal static readonly double[] B =
        [0.09646076681806523, 0.01, 0.4798896504144996, 1.379008574103742, -3.290069515436081, 2.324710524099774, 0];

    internal static readonly double[] BHat =
    [
        0.09468075576583923, 0.009183565540343, 0.4877705284247616, 1.234297566930479, -2.707712349983526,
        1.866628418170587, 1.0 / 66,
    ];

    // Row i: coefficients of θ, θ², θ³, θ⁴ in b_i(θ).
    internal static readonly double[][] BTheta =
    [
        [1, -2.7637061972748259113, 2.9132554618219127438, -1.0530884977290216],
        [0, 0.13169999999999999727, -0.22339999999999999818, 0.1017],
        [0, 3.9302962368947515285, -5.9410338721315047347, 2.490627285651252793],
        [0, -12.411077166933676984, 30.338188630282321598, -16.54810288924490272],
        [0, 37.509313416511039195, -88.178904894766401101, 47.37952196281928122],
        [0, -27.896526289197287806, 65.091894674793671526, -34.87065786149660974],
        [0, 1.5, -4.0, 2.5],
    ];
}
