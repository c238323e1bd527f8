using System;
using System.Collections.Generic;
using System.Linq;

namespace NeuralOde.Generators.Validation;

/// <summary>
/// The elementary weight vectors g(t) of a tableau's A: g(τ) = 1 and g([t₁…tₘ]) = Πₖ A·g(tₖ) componentwise, so
/// that the order condition of t reads b·g(t) = 1/γ(t). Vectors are memoized by tree, exactly when every aᵢⱼ is
/// exact, and always in doubles (with |A| alongside, to scale tolerances).
/// </summary>
internal sealed class ElementaryWeights
{
    private readonly int _stages;
    private readonly Rational[][]? _exactA;
    private readonly double[][] _a;
    private readonly double[][] _absA;
    private readonly Dictionary<string, Rational[]> _exact = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (double[] Value, double[] Abs)> _approximate = new(StringComparer.Ordinal);

    /// <summary>Creates the weights of a strictly lower-triangular A given as rows (row i has i entries).</summary>
    /// <param name="rows">The rows of A.</param>
    public ElementaryWeights(IReadOnlyList<ParsedArray> rows)
    {
        _stages = rows.Count;
        _a = [.. rows.Select(static row => row.Items.Select(static c => c.Value).ToArray())];
        _absA = [.. _a.Select(static row => row.Select(Math.Abs).ToArray())];
        if (rows.All(static row => row.IsExact))
        {
            _exactA = [.. rows.Select(static row => row.Items.Select(static c => c.Exact!.Value).ToArray())];
        }
    }

    /// <summary>Gets whether the exact vectors are available (every aᵢⱼ is exact).</summary>
    public bool IsExact => _exactA is not null;

    /// <summary>Gets the row sums A·1 (the nodes the order conditions use), exactly.</summary>
    /// <returns>The vector, or null when A is not exact.</returns>
    public Rational[]? ExactRowSums() => _exactA is null ? null : Multiply(_exactA, Ones());

    /// <summary>Gets g(t) exactly.</summary>
    /// <param name="tree">The tree.</param>
    /// <returns>The vector, length s.</returns>
    /// <exception cref="InvalidOperationException">A is not exact.</exception>
    public Rational[] Exact(RootedTree tree)
    {
        if (_exactA is null)
        {
            throw new InvalidOperationException("A is not exact.");
        }

        if (_exact.TryGetValue(tree.Name, out var cached))
        {
            return cached;
        }

        var g = Ones();
        foreach (var child in tree.Children)
        {
            var product = Multiply(_exactA, Exact(child));
            for (var i = 0; i < _stages; i++)
            {
                g[i] *= product[i];
            }
        }

        _exact.Add(tree.Name, g);
        return g;
    }

    /// <summary>Gets g(t) in doubles, and the same product taken over |A| (a bound on the rounding).</summary>
    /// <param name="tree">The tree.</param>
    /// <returns>The vector and its absolute counterpart, each of length s.</returns>
    public (double[] Value, double[] Abs) Approximate(RootedTree tree)
    {
        if (_approximate.TryGetValue(tree.Name, out var cached))
        {
            return cached;
        }

        var g = Enumerable.Repeat(1.0, _stages).ToArray();
        var abs = Enumerable.Repeat(1.0, _stages).ToArray();
        foreach (var child in tree.Children)
        {
            var (childValue, childAbs) = Approximate(child);
            for (var i = 0; i < _stages; i++)
            {
                g[i] *= Dot(_a[i], childValue);
                abs[i] *= Dot(_absA[i], childAbs);
            }
        }

        _approximate.Add(tree.Name, (g, abs));
        return (g, abs);
    }

    private static double Dot(double[] row, double[] vector)
    {
        var sum = 0.0;
        for (var j = 0; j < row.Length && j < vector.Length; j++)
        {
            sum += row[j] * vector[j];
        }

        return sum;
    }

    private Rational[] Ones() => [.. Enumerable.Repeat(Rational.One, _stages)];

    private Rational[] Multiply(Rational[][] matrix, Rational[] vector)
    {
        var result = new Rational[_stages];
        for (var i = 0; i < _stages; i++)
        {
            var sum = Rational.Zero;
            for (var j = 0; j < matrix[i].Length && j < vector.Length; j++)
            {
                if (!matrix[i][j].IsZero)
                {
                    sum += matrix[i][j] * vector[j];
                }
            }

            result[i] = sum;
        }

        return result;
    }
}
