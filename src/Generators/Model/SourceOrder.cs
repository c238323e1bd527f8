using System;

namespace NeuralOde.Generators.Model;

/// <summary>
/// A declaration's place in the source without spans: its file and its index among the type declarations of that
/// file. Unlike a location it survives edits that only move text, so a spec that holds it stays cached.
/// </summary>
/// <param name="FilePath">The path of the file.</param>
/// <param name="Index">The zero-based index of the declaration among the file's type declarations, in order.</param>
internal readonly record struct SourceOrder(string FilePath, int Index) : IComparable<SourceOrder>
{
    /// <inheritdoc/>
    public int CompareTo(SourceOrder other)
    {
        var byFile = string.CompareOrdinal(FilePath, other.FilePath);
        return byFile != 0 ? byFile : Index.CompareTo(other.Index);
    }
}
