namespace NeuralOde.Tableaux;

/// <summary>
/// Tsitouras' 5(4) pair ("Tsit5"): propagated order 5, embedded order 4, seven stages, FSAL (an accepted step
/// costs six evaluations), with a continuous extension of order 4 that takes one extra evaluation in a step that holds
/// an output time. Its coefficients are published as decimals, so they are declared as decimals.
/// </summary>
/// <remarks>
/// <para>Ch. Tsitouras, "Runge–Kutta pairs of order 5(4) satisfying only the first column simplifying
/// assumption", <i>Computers &amp; Mathematics with Applications</i> 62(2) (2011) 770–775,
/// doi:10.1016/j.camwa.2011.06.002, Table 1 (coefficients) and the interpolant b<sub>i</sub>(θ) given with it.</para>
/// <para>How the declaration follows the paper: c, a<sub>ij</sub> (j ≥ 2) and b carry the paper's digits. The
/// first column is fixed by the row sums, a<sub>i1</sub> = c<sub>i</sub> − Σ<sub>j≥2</sub> a<sub>ij</sub>, and is
/// written as the exact decimal of that difference. The row the paper gives for the embedded method holds the
/// differences b<sub>i</sub> − b̂<sub>i</sub>, whose last entry must read −1/66 (as OrdinaryDiffEq, torchdiffeq and
/// SpECTRE also read it); <c>BHat</c> is b minus that row, as exact decimals, with b̂₇ = 1/66.</para>
/// <para>Dense output. The paper's interpolant (printed factored, with decimal roots; expanded into powers of θ and
/// rounded to 20 significant digits in the comment below) has order 4, and at tight tolerances its error far exceeds
/// the solution's, whose error constants are small (24.6× the error at t1 on y′ = 1 + y² at 10⁻¹⁰, 3.6× on y′ = −y).
/// Order 5 would take two more stages: with the seven stages, the weight vectors Φ(t) of the 17 trees up to order 5 span
/// 7 dimensions, and adding the targets θ^|t|/γ(t) makes 9. The interpolant declared here, derived for this library,
/// takes one: stage 8 is f at the midpoint of the paper's interpolant, c₈ = 1/2 and a₈ⱼ = bⱼ^paper(1/2). The quintic
/// bᵢ(θ) over the eight stages has order 4, ends at B (bᵢ(1) = bᵢ) and is C¹ (b′(0) weights only k₁, b′(1) only the
/// FSAL stage k₇), and among those it minimizes ∫₀¹ Σ_{|t| = 5} (Σᵢ bᵢ(θ)Φᵢ(t) − θ⁵/γ(t))²/σ(t)² dθ, the order-5 error
/// coefficients (an equality-constrained least-squares problem, solved in 40-digit arithmetic and rounded to 20
/// significant digits; the θ⁵ coefficients of the last two rows, 4 and 16 for exact coefficients, show the decimals'
/// rounding; scripts/dense-output/derive.py reproduces every digit). That integral is 9.0·10⁻⁵, against 4.9·10⁻⁴
/// for the paper's; measured at 10⁻¹⁰ (DenseOutputTests) the worst error at 25 output times is 2.7× (y′ = −y), 1.0×
/// (y″ = −y) and 0.8× (y′ = 1 + y²) the error at t1. The extra stage is evaluated only in a step that holds an output
/// time (<see cref="Stepping.RungeKuttaScheme.EvaluateDenseStages"/>), so a solve without outputs costs what it did.</para>
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

    // The paper's interpolant, row i: coefficients of θ, θ², θ³, θ⁴ in b_i(θ) (θ⁴: the paper's leading factors):
    //   [1, -2.7637061972748259113, 2.9132554618219127438, -1.0530884977290216],
    //   [0, 0.13169999999999999727, -0.22339999999999999818, 0.1017],
    //   [0, 3.9302962368947515285, -5.9410338721315047347, 2.490627285651252793],
    //   [0, -12.411077166933676984, 30.338188630282321598, -16.54810288924490272],
    //   [0, 37.509313416511039195, -88.178904894766401101, 47.37952196281928122],
    //   [0, -27.896526289197287806, 65.091894674793671526, -34.87065786149660974],
    //   [0, 1.5, -4.0, 2.5].
    // The dense output's extra stage 8, evaluated only in a step that holds an output time: f at the midpoint of the
    // paper's interpolant, Y₈ = y + Σⱼ bⱼ(1/2)·hkⱼ with the bⱼ(θ) above (to 20 significant digits).
    internal static readonly double[] CDense = [1.0 / 2];

    internal static readonly double[][] ADense =
    [
        [
            0.10741235230096876515, 0.011356249999999999545, 0.39560903056045308985, -0.34475214352593546625,
            1.3161853649581647374, -1.0170608542936511195, 0.03125,
        ],
    ];

    // Row i: coefficients of θ, θ², θ³, θ⁴, θ⁵ in b_i(θ), to 20 significant digits; the last row weights the dense
    // stage 8.
    internal static readonly double[][] BTheta =
    [
        [1, -3.6412673340930412773, 6.3533193318224269463, -5.3005328272754039107, 1.6849415963640834717],
        [0, 0.25685110902016865841, -0.71370221804132047617, 0.70685110902213497711, -0.24000000000098315935],
        [0, 9.929443200982746591, -29.456679410244697709, 31.524477469613633968, -11.51735160993718728],
        [0, 4.8519587653035175336, -37.284089012857103939, 66.907344600321899538, -33.096205778664666406],
        [0, -3.7111072364651090758, 73.22360478236209102, -151.76423543250755714, 78.961668371174840683],
        [0, 1.2358230723223676692, -48.965856627204996765, 105.84779665794182739, -55.79305257895941849],
        [0, -0.58607250212491006211, 4.1721450042736151636, -7.5860725021738346829, 4.0000000000248662623],
        [0, -8.335629074945740037, 32.671258149889985759, -40.335629074942700142, 15.999999999998464919],
    ];
}
