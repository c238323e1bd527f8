using System.ComponentModel;
using TorchSharp;

namespace NeuralOde.Stepping;

/// <summary>
/// The native scalars of one tableau's coefficients, for the generated step's fused multiply-adds. Indices are the
/// paper's, one-based: <c>A(3, 2)</c> is a₃₂. Created once per scheme, on its first step (creating a native scalar
/// needs libtorch, and registering a scheme must not); the scalars live as long as the process.
/// </summary>
/// <remarks>Public for the generated code of any assembly; not meant to be used directly.</remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class TableauScalars
{
    private readonly Scalar[] c;
    private readonly Scalar[][] a;
    private readonly Scalar[] b;
    private readonly Scalar[] e;
    private readonly Scalar[][] d;
    private readonly CombinationWeights[] aRows;
    private readonly CombinationWeights bRow;
    private readonly CombinationWeights? eRow;

    /// <summary>Creates the scalars of every coefficient of <paramref name="tableau"/>.</summary>
    /// <param name="tableau">The tableau.</param>
    public TableauScalars(ButcherTableau tableau)
    {
        ArgumentNullException.ThrowIfNull(tableau);
        c = [.. Create(tableau.C), .. Create(tableau.CDense)];
        a = [.. tableau.A.Select(Create), .. tableau.ADense.Select(Create)];
        b = Create(tableau.B);
        e = tableau.E is null ? [] : Create(tableau.E);
        d = tableau.BTheta is null ? [] : [.. tableau.BTheta.Select(Create)];
        One = 1.0.ToScalar();
        aRows = [.. tableau.A.Concat(tableau.ADense).Select(static row => new CombinationWeights(row))];
        bRow = new CombinationWeights(tableau.B);
        eRow = tableau.E is null ? null : new CombinationWeights(tableau.E);
    }

    /// <summary>Gets the scalar 1.</summary>
    public Scalar One { get; }

    /// <summary>The nonzero entries of row <paramref name="i"/> of A (1-based, dense stages after the scheme's own), in
    /// stage order.</summary>
    /// <param name="i">The stage.</param>
    /// <returns>The weights.</returns>
    public CombinationWeights ARow(int i) => aRows[i - 1];

    /// <summary>The nonzero weights of the solution, in stage order.</summary>
    /// <returns>The weights.</returns>
    public CombinationWeights BRow() => bRow;

    /// <summary>The nonzero error weights, in stage order.</summary>
    /// <returns>The weights.</returns>
    public CombinationWeights ERow() => eRow ?? throw new InvalidOperationException("The tableau has no embedded error estimate.");

    /// <summary>Gets the node cᵢ.</summary>
    /// <param name="i">The stage, 1 to s, or s + 1 to s + m for the dense output's extra stages.</param>
    /// <returns>The scalar.</returns>
    public Scalar C(int i) => c[i - 1];

    /// <summary>Gets the coefficient aᵢⱼ.</summary>
    /// <param name="i">The stage, 2 to s, or s + 1 to s + m for the dense output's extra stages.</param>
    /// <param name="j">The earlier stage, 1 to i − 1.</param>
    /// <returns>The scalar.</returns>
    public Scalar A(int i, int j) => a[i - 1][j - 1];

    /// <summary>Gets the weight bᵢ of the propagated solution.</summary>
    /// <param name="i">The stage, 1 to s.</param>
    /// <returns>The scalar.</returns>
    public Scalar B(int i) => b[i - 1];

    /// <summary>Gets the error weight eᵢ = bᵢ − b̂ᵢ.</summary>
    /// <param name="i">The stage, 1 to s.</param>
    /// <returns>The scalar.</returns>
    public Scalar E(int i) => e[i - 1];

    /// <summary>Gets the θᵏ coefficient of the dense-output polynomial bᵢ(θ).</summary>
    /// <param name="i">The stage, 1 to s (s + 1 for the end slope, or s + 1 to s + m for the dense stages).</param>
    /// <param name="k">The power of θ, 1 or more.</param>
    /// <returns>The scalar.</returns>
    public Scalar D(int i, int k) => d[i - 1][k - 1];

    private static Scalar[] Create(IReadOnlyList<Coefficient> coefficients) =>
        [.. coefficients.Select(static coefficient => coefficient.Value.ToScalar())];
}
