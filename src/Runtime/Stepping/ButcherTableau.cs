namespace NeuralOde.Stepping;

/// <summary>
/// The coefficients of an explicit Runge–Kutta scheme, as the generator read and checked them.
/// </summary>
/// <remarks>Indices are zero-based: <c>A[i][j]</c> is a<sub>i+1,j+1</sub> of the paper.</remarks>
public sealed class ButcherTableau
{
    /// <summary>Creates the tableau metadata. Generated code calls this; arrays are copied.</summary>
    /// <param name="c">The nodes, length s.</param>
    /// <param name="a">The strictly lower-triangular matrix as jagged rows, row i of length i.</param>
    /// <param name="b">The propagated weights, length s.</param>
    /// <param name="bHat">The embedded weights, length s, or null.</param>
    /// <param name="e">The error weights eᵢ = bᵢ − b̂ᵢ (computed exactly where the weights are exact), length s, or null.</param>
    /// <param name="bTheta">Dense-output polynomials: row i holds the coefficients of θ¹, θ², … of bᵢ(θ), one row per
    /// stage and optionally one more for the end slope f(t + h, y₁), or one more for each dense stage; or null.</param>
    /// <param name="cDense">The nodes of the dense output's extra stages (evaluated only in a step that holds an output
    /// time), length m, or null when it has none.</param>
    /// <param name="aDense">The coefficients of those stages as jagged rows: row m (zero-based) weights the s stages and
    /// the m dense stages before it, length s + m; or null.</param>
    public ButcherTableau(
        IReadOnlyList<Coefficient> c,
        IReadOnlyList<IReadOnlyList<Coefficient>> a,
        IReadOnlyList<Coefficient> b,
        IReadOnlyList<Coefficient>? bHat,
        IReadOnlyList<Coefficient>? e,
        IReadOnlyList<IReadOnlyList<Coefficient>>? bTheta,
        IReadOnlyList<Coefficient>? cDense = null,
        IReadOnlyList<IReadOnlyList<Coefficient>>? aDense = null)
    {
        ArgumentNullException.ThrowIfNull(c);
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        C = [.. c];
        A = [.. a.Select(static row => (IReadOnlyList<Coefficient>)[.. row])];
        B = [.. b];
        BHat = bHat is null ? null : [.. bHat];
        E = e is null ? null : [.. e];
        BTheta = bTheta is null ? null : [.. bTheta.Select(static row => (IReadOnlyList<Coefficient>)[.. row])];
        if ((cDense?.Count ?? 0) != (aDense?.Count ?? 0))
        {
            throw new ArgumentException($"cDense has {cDense?.Count ?? 0} nodes but aDense {aDense?.Count ?? 0} rows; each dense stage has one of each.", nameof(aDense));
        }

        CDense = cDense is null ? [] : [.. cDense];
        ADense = aDense is null ? [] : [.. aDense.Select(static row => (IReadOnlyList<Coefficient>)[.. row])];
    }

    /// <summary>Gets the number of stages s.</summary>
    public int Stages => C.Count;

    /// <summary>Gets the nodes cᵢ, length s.</summary>
    public IReadOnlyList<Coefficient> C { get; }

    /// <summary>Gets the coefficients aᵢⱼ as jagged rows; row i has i entries.</summary>
    public IReadOnlyList<IReadOnlyList<Coefficient>> A { get; }

    /// <summary>Gets the weights of the propagated solution, length s.</summary>
    public IReadOnlyList<Coefficient> B { get; }

    /// <summary>Gets the weights of the embedded solution, length s, or null when the scheme has none.</summary>
    public IReadOnlyList<Coefficient>? BHat { get; }

    /// <summary>Gets the error weights eᵢ = bᵢ − b̂ᵢ, length s, or null when the scheme has no embedded weights.</summary>
    public IReadOnlyList<Coefficient>? E { get; }

    /// <summary>
    /// Gets the dense-output polynomials (row i: coefficients of θ¹, θ², … of bᵢ(θ)), or null. A row past the stages
    /// (row s, zero-based) weights the end slope f(t + h, y₁), or, with <see cref="CDense"/>, the rows past the stages
    /// weight the dense stages in order.
    /// </summary>
    public IReadOnlyList<IReadOnlyList<Coefficient>>? BTheta { get; }

    /// <summary>
    /// Gets the nodes of the dense output's extra stages s + 1, …, s + m (evaluated only in a step that holds an output
    /// time, see <see cref="RungeKuttaScheme.EvaluateDenseStages"/>), length m; empty when it has none.
    /// </summary>
    public IReadOnlyList<Coefficient> CDense { get; }

    /// <summary>
    /// Gets the coefficients of the dense output's extra stages as jagged rows: row m (zero-based) weights the s stages
    /// and the m dense stages before it, so it has s + m entries; empty when there are none.
    /// </summary>
    public IReadOnlyList<IReadOnlyList<Coefficient>> ADense { get; }
}
