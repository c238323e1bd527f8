using NeuralOde.Generators.Helpers;

namespace NeuralOde.Generators.Model;

/// <summary>A valid Butcher tableau, as read and checked by the parser: everything the emitters need.</summary>
/// <remarks>
/// The incremental pipeline compares specs to decide whether to re-emit a file, so this type must stay immutable
/// and structurally equatable: it holds strings, numbers and <see cref="EquatableArray{T}"/>s only, never an
/// <c>ISymbol</c>, <c>SyntaxNode</c>, <c>Location</c> or <c>Compilation</c> (they would root a compilation and
/// defeat caching). Adding a member that lacks value equality silently breaks caching (System.Text.Json's
/// <c>ContextGenerationSpec</c> carries the same warning).
/// </remarks>
internal sealed record TableauSpec
{
    /// <summary>Gets the scheme's declared name, for example <c>RKF45</c>.</summary>
    public required string Name { get; init; }

    /// <summary>Gets the type's own name as C# text (a keyword gets <c>@</c>), for example <c>Fehlberg45</c>.</summary>
    public required string TypeName { get; init; }

    /// <summary>Gets the type's fully qualified name, for example <c>global::NeuralOde.Tableaux.Fehlberg45</c>.</summary>
    public required string FullyQualifiedName { get; init; }

    /// <summary>Gets the namespace and containing types.</summary>
    public required ContainingTypeSpec Containing { get; init; }

    /// <summary>Gets the preferred hint name, for example <c>NeuralOde.Tableaux.Fehlberg45.g.cs</c>.</summary>
    public required string HintName { get; init; }

    /// <summary>Gets whether the registry (a top-level internal class) can reach the type.</summary>
    public required bool IsRegistrable { get; init; }

    /// <summary>
    /// Gets where the type is declared, as a file and an index that whitespace edits do not change: it orders
    /// duplicate names and finds the declaration again to report one.
    /// </summary>
    public required SourceOrder SourceOrder { get; init; }

    /// <summary>Gets the number of stages s.</summary>
    public required int Stages { get; init; }

    /// <summary>Gets the order of <see cref="B"/>.</summary>
    public required int Order { get; init; }

    /// <summary>Gets the order of <see cref="BHat"/>, or null without embedded weights.</summary>
    public required int? EmbeddedOrder { get; init; }

    /// <summary>Gets the nodes c₁…c_s.</summary>
    public required EquatableArray<CoefficientSpec> C { get; init; }

    /// <summary>Gets the rows of A; row i (zero-based) has i entries.</summary>
    public required EquatableArray<EquatableArray<CoefficientSpec>> A { get; init; }

    /// <summary>Gets the weights of the propagated solution.</summary>
    public required EquatableArray<CoefficientSpec> B { get; init; }

    /// <summary>Gets the weights of the embedded solution, or null.</summary>
    public required EquatableArray<CoefficientSpec>? BHat { get; init; }

    /// <summary>Gets the error weights E = B − BHat (derived), or null without embedded weights.</summary>
    public required EquatableArray<CoefficientSpec>? E { get; init; }

    /// <summary>
    /// Gets the dense-output polynomials (row i: coefficients of θ¹, θ², … of bᵢ(θ)), or null. One row per stage,
    /// and one more (row s + 1) when the dense output also uses the end slope f(t + h, y₁), or one more per dense stage.
    /// </summary>
    public required EquatableArray<EquatableArray<CoefficientSpec>>? BTheta { get; init; }

    /// <summary>Gets the order of the dense output, or null without <see cref="BTheta"/>.</summary>
    public required int? DenseOrder { get; init; }

    /// <summary>Gets the nodes of the dense output's extra stages s + 1, …, s + m, or null when it has none.</summary>
    public required EquatableArray<CoefficientSpec>? CDense { get; init; }

    /// <summary>Gets the rows of the dense output's extra stages (row m, zero-based, has s + m entries), or null.</summary>
    public required EquatableArray<EquatableArray<CoefficientSpec>>? ADense { get; init; }

    /// <summary>Gets the number m of the dense output's extra stages, evaluated only in a step that holds an output time.</summary>
    public int DenseStages => CDense?.Count ?? 0;

    /// <summary>Gets whether the dense output uses the end slope f(t + h, y₁) (a row of BTheta past the stages, without
    /// dense stages).</summary>
    public bool DenseOutputUsesEndSlope => BTheta is { } dense && DenseStages == 0 && dense.Count == Stages + 1;

    /// <summary>Gets whether the last stage is evaluated at the new solution (first same as last).</summary>
    public required bool IsFsal { get; init; }
}
