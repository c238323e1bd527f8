using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using Microsoft.CodeAnalysis;
using NeuralOde.Generators.Helpers;

namespace NeuralOde.Generators.Model;

/// <summary>
/// Diagnostics that compare by value (ID, severity, location and message), so that a pipeline step that produces
/// the same diagnostics again counts as unchanged. <see cref="Diagnostic"/> itself compares its message arguments by
/// reference, and arrays compare by reference.
/// </summary>
internal sealed class DiagnosticBatch(ImmutableArray<Diagnostic> items) : System.IEquatable<DiagnosticBatch>
{
    /// <summary>Gets an empty batch.</summary>
    public static DiagnosticBatch Empty { get; } = new(ImmutableArray<Diagnostic>.Empty);

    /// <summary>Gets the diagnostics.</summary>
    public ImmutableArray<Diagnostic> Items { get; } = items.IsDefault ? ImmutableArray<Diagnostic>.Empty : items;

    /// <summary>Compares two diagnostics by ID, severity, location and message.</summary>
    /// <param name="left">The first diagnostic.</param>
    /// <param name="right">The second diagnostic.</param>
    /// <returns>Whether they would read the same, at the same place.</returns>
    public static bool Same(Diagnostic left, Diagnostic right) =>
        left.Id == right.Id
        && left.Severity == right.Severity
        && left.Location.Equals(right.Location)
        && left.GetMessage(CultureInfo.InvariantCulture) == right.GetMessage(CultureInfo.InvariantCulture);

    /// <summary>Hashes the parts of a diagnostic that <see cref="Same"/> compares cheaply.</summary>
    /// <param name="seed">The running hash.</param>
    /// <param name="diagnostic">The diagnostic.</param>
    /// <returns>The combined hash.</returns>
    public static int Hash(int seed, Diagnostic diagnostic) =>
        HashCodeCombiner.Combine(seed, diagnostic.Id.GetHashCode(), diagnostic.Location.GetHashCode());

    /// <inheritdoc/>
    public bool Equals(DiagnosticBatch? other) =>
        other is not null && Items.Length == other.Items.Length && Items.Zip(other.Items, Same).All(static same => same);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as DiagnosticBatch);

    /// <inheritdoc/>
    public override int GetHashCode() => Items.Aggregate(17, Hash);
}
