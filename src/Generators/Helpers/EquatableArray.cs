using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;

namespace NeuralOde.Generators.Helpers;

/// <summary>
/// An immutable array with value equality, so that the incremental pipeline can tell an unchanged model from a
/// changed one (arrays and <see cref="System.Collections.Immutable.ImmutableArray{T}"/> compare by reference).
/// </summary>
/// <typeparam name="T">The element type; it must have value equality itself.</typeparam>
internal readonly struct EquatableArray<T> : IEquatable<EquatableArray<T>>, IReadOnlyList<T>
    where T : IEquatable<T>
{
    private readonly T[]? _items;

    /// <summary>Wraps <paramref name="items"/>, which the caller must not change afterwards.</summary>
    /// <param name="items">The elements.</param>
    public EquatableArray(T[] items) => _items = items;

    /// <summary>Gets an empty array.</summary>
    public static EquatableArray<T> Empty => new([]);

    /// <summary>Gets the number of elements.</summary>
    public int Count => _items?.Length ?? 0;

    /// <summary>Gets the element at <paramref name="index"/>.</summary>
    /// <param name="index">The zero-based index.</param>
    public T this[int index] => (_items ?? [])[index];

    /// <summary>Compares two arrays element by element.</summary>
    /// <param name="left">The first array.</param>
    /// <param name="right">The second array.</param>
    /// <returns>Whether they hold equal elements in the same order.</returns>
    public static bool operator ==(EquatableArray<T> left, EquatableArray<T> right) => left.Equals(right);

    /// <summary>Compares two arrays element by element.</summary>
    /// <param name="left">The first array.</param>
    /// <param name="right">The second array.</param>
    /// <returns>Whether they differ.</returns>
    public static bool operator !=(EquatableArray<T> left, EquatableArray<T> right) => !left.Equals(right);

    /// <inheritdoc/>
    public bool Equals(EquatableArray<T> other) =>
        (_items ?? []).AsEnumerable().SequenceEqual(other._items ?? []);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is EquatableArray<T> other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = 17;
        foreach (var item in _items ?? [])
        {
            hash = HashCodeCombiner.Combine(hash, item is null ? 0 : item.GetHashCode());
        }

        return hash;
    }

    /// <inheritdoc/>
    public IEnumerator<T> GetEnumerator() => ((IEnumerable<T>)(_items ?? [])).GetEnumerator();

    /// <inheritdoc/>
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>Creates <see cref="EquatableArray{T}"/> values.</summary>
internal static class EquatableArray
{
    /// <summary>Copies a sequence into an equatable array.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="items">The elements.</param>
    /// <returns>The array.</returns>
    public static EquatableArray<T> ToEquatableArray<T>(this IEnumerable<T> items)
        where T : IEquatable<T> => new(items.ToArray());
}
