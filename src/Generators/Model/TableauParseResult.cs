using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace NeuralOde.Generators.Model;

/// <summary>What parsing one <c>[ButcherTableau]</c> class produced: a spec when it is valid, and diagnostics.</summary>
/// <remarks>
/// The diagnostics stay raw <see cref="Diagnostic"/>s with their source locations, so that <c>#pragma warning
/// disable</c> works on them (a location rebuilt from values is not suppressible). They compare by ID, severity,
/// location and message, so an edit elsewhere in the compilation leaves this result unchanged.
/// </remarks>
internal sealed record TableauParseResult
{
    /// <summary>Gets a result with nothing to emit or report.</summary>
    public static TableauParseResult Empty { get; } = new() { Spec = null, Diagnostics = ImmutableArray<Diagnostic>.Empty };

    /// <summary>Gets the spec, or null when the declaration has an error.</summary>
    public required TableauSpec? Spec { get; init; }

    /// <summary>Gets the diagnostics, in the order they were found.</summary>
    public required ImmutableArray<Diagnostic> Diagnostics { get; init; }

    /// <inheritdoc/>
    public bool Equals(TableauParseResult? other) =>
        other is not null
        && Equals(Spec, other.Spec)
        && Diagnostics.Length == other.Diagnostics.Length
        && Diagnostics.Zip(other.Diagnostics, DiagnosticBatch.Same).All(static same => same);

    /// <inheritdoc/>
    public override int GetHashCode() => Diagnostics.Aggregate(Spec?.GetHashCode() ?? 0, DiagnosticBatch.Hash);
}
