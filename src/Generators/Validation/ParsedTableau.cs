using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace NeuralOde.Generators.Validation;

/// <summary>
/// A tableau as the parser read it, with the source location of every part. It lives only inside one parse (it
/// holds <see cref="Location"/>s) and is never cached; the parser turns it into a <c>TableauSpec</c>.
/// </summary>
internal sealed class ParsedTableau
{
    /// <summary>Gets the name used in messages: the scheme name when valid, else the type name.</summary>
    public required string DisplayName { get; init; }

    /// <summary>Gets the declared order of B (validated, 1 to 8).</summary>
    public required int Order { get; init; }

    /// <summary>Gets the <c>Order = p</c> argument, where an unmet order is reported.</summary>
    public required Location OrderLocation { get; init; }

    /// <summary>Gets the declared order of BHat (validated), or null.</summary>
    public required int? EmbeddedOrder { get; init; }

    /// <summary>Gets the <c>EmbeddedOrder = q</c> argument, where an unmet embedded order is reported.</summary>
    public required Location EmbeddedOrderLocation { get; init; }

    /// <summary>Gets the declared order of the dense output (validated), or null.</summary>
    public required int? DenseOrder { get; init; }

    /// <summary>Gets the <c>DenseOrder = q</c> argument, where an unmet dense order is reported.</summary>
    public required Location DenseOrderLocation { get; init; }

    /// <summary>Gets the nodes.</summary>
    public required ParsedArray C { get; init; }

    /// <summary>Gets the rows of A.</summary>
    public required ParsedMatrix A { get; init; }

    /// <summary>Gets the propagated weights.</summary>
    public required ParsedArray B { get; init; }

    /// <summary>Gets the embedded weights, or null.</summary>
    public required ParsedArray? BHat { get; init; }

    /// <summary>Gets the dense-output polynomials, or null: one row per stage, and optionally one more for the end
    /// slope f(t + h, y₁) or one more per dense stage.</summary>
    public required ParsedMatrix? BTheta { get; init; }

    /// <summary>Gets the nodes of the dense output's extra stages, or null.</summary>
    public required ParsedArray? CDense { get; init; }

    /// <summary>Gets the rows of the dense output's extra stages (row m weights the s stages and the m dense stages
    /// before it), or null.</summary>
    public required ParsedMatrix? ADense { get; init; }

    /// <summary>Gets the number of the dense output's extra stages (0 without <see cref="CDense"/>).</summary>
    public int DenseStages => CDense?.Items.Count ?? 0;

    /// <summary>Gets the identifier of the <c>BHat</c> field, where a problem with the embedded weights as a whole is
    /// reported, or null without BHat.</summary>
    public required Location? BHatField { get; init; }
}

/// <summary>One coefficient with its location.</summary>
/// <param name="Value">The value (the double nearest the exact fraction when there is one).</param>
/// <param name="Exact">The exact fraction, or null.</param>
/// <param name="SourceText">The source, on one line.</param>
/// <param name="Location">Where it is declared.</param>
internal sealed record ParsedCoefficient(double Value, Rational? Exact, string SourceText, Location Location);

/// <summary>An array of coefficients: C, B, BHat, or one row of A or BTheta.</summary>
/// <param name="Path">How messages name it: <c>C</c>, <c>A[3]</c>.</param>
/// <param name="Location">The array literal, or the field when there is none.</param>
/// <param name="Items">The coefficients.</param>
internal sealed record ParsedArray(string Path, Location Location, IReadOnlyList<ParsedCoefficient> Items)
{
    /// <summary>Gets whether every coefficient is exact.</summary>
    public bool IsExact => Items.All(static c => c.Exact is not null);
}

/// <summary>A jagged array of coefficients: A or BTheta.</summary>
/// <param name="Path">How messages name it.</param>
/// <param name="Location">The array literal.</param>
/// <param name="Rows">The rows.</param>
internal sealed record ParsedMatrix(string Path, Location Location, IReadOnlyList<ParsedArray> Rows);
