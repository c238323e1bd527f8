using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;

namespace NeuralOde.Generators.Validation;

/// <summary>
/// A rooted tree, the index of one Runge–Kutta order condition (Butcher): Σ bᵢ Φᵢ(t) = 1/γ(t).
/// </summary>
internal sealed class RootedTree
{
    private RootedTree(IReadOnlyList<RootedTree> children)
    {
        Children = children;
        Order = 1 + children.Sum(static c => c.Order);
        Density = Order * children.Aggregate(1, static (product, c) => product * c.Density);
        Height = children.Count == 0 ? 0 : 1 + children.Max(static c => c.Height);
        Name = FormatName(children);
        Formula = FormatFormula(this);
    }

    /// <summary>Gets the single-node tree τ.</summary>
    public static RootedTree Leaf { get; } = new([]);

    /// <summary>Gets the subtrees of the root, in canonical order (larger subtrees first, then by name).</summary>
    public IReadOnlyList<RootedTree> Children { get; }

    /// <summary>Gets the number of nodes |t|, the order of the condition.</summary>
    public int Order { get; }

    /// <summary>Gets the density γ(t) = |t| · Π γ(tₖ).</summary>
    public int Density { get; }

    /// <summary>Gets the length of the longest path from the root.</summary>
    public int Height { get; }

    /// <summary>Gets the canonical name in Butcher's bracket notation: <c>τ</c>, <c>[τ]</c>, <c>[τ²]</c>, <c>[[τ]τ]</c>.</summary>
    public string Name { get; }

    /// <summary>
    /// Gets the elementary weight in index notation with <c>b</c> for the weights, for example
    /// <c>Σ b_i c_i a_ij c_j</c> for <c>[[τ]τ]</c>.
    /// </summary>
    public string Formula { get; }

    /// <summary>Gets the elementary weight written for other weights, for example <c>b̂</c>.</summary>
    /// <param name="weight">The symbol of the weights.</param>
    /// <returns>The formula.</returns>
    public string FormulaFor(string weight) => weight == "b" ? Formula : "Σ " + weight + Formula.Substring(3);

    /// <summary>Creates a tree from its root's subtrees, in any order.</summary>
    /// <param name="children">The subtrees.</param>
    /// <returns>The tree, with its children in canonical order.</returns>
    public static RootedTree Create(IEnumerable<RootedTree> children) =>
        new(children.OrderBy(static c => c, CanonicalOrder.Instance).ToArray());

    /// <inheritdoc/>
    public override string ToString() => Name;

    private static string FormatName(IReadOnlyList<RootedTree> children)
    {
        if (children.Count == 0)
        {
            return "τ";
        }

        var builder = new StringBuilder("[");
        for (var i = 0; i < children.Count;)
        {
            var run = 1;
            while (i + run < children.Count && children[i + run].Name == children[i].Name)
            {
                run++;
            }

            builder.Append(children[i].Name);
            if (run > 1)
            {
                builder.Append(Superscript(run));
            }

            i += run;
        }

        return builder.Append(']').ToString();
    }

    private static string FormatFormula(RootedTree tree)
    {
        var builder = new StringBuilder("Σ b_i");
        var nextIndex = 1;
        AppendFactors(builder, tree, 'i', ref nextIndex);
        return builder.ToString();
    }

    private static void AppendFactors(StringBuilder builder, RootedTree node, char index, ref int nextIndex)
    {
        // Leaves first, as c_i^m; then one a_ij factor per larger subtree, with a fresh summation index.
        var leaves = node.Children.Count(static c => c.Order == 1);
        if (leaves > 0)
        {
            builder.Append(" c_").Append(index);
            if (leaves > 1)
            {
                builder.Append(Superscript(leaves));
            }
        }

        foreach (var child in node.Children.Where(static c => c.Order > 1))
        {
            var childIndex = "ijklmnopqrstuvwxyz"[Math.Min(nextIndex++, 17)];
            builder.Append(" a_").Append(index).Append(childIndex);
            AppendFactors(builder, child, childIndex, ref nextIndex);
        }
    }

    private static string Superscript(int value) =>
        new([.. value.ToString(System.Globalization.CultureInfo.InvariantCulture).Select(static d => "⁰¹²³⁴⁵⁶⁷⁸⁹"[d - '0'])]);

    /// <summary>Orders subtrees canonically: larger first, then by name (ordinal).</summary>
    private sealed class CanonicalOrder : IComparer<RootedTree>
    {
        public static readonly CanonicalOrder Instance = new();

        public int Compare(RootedTree? x, RootedTree? y) =>
            x is null || y is null
                ? Comparer<RootedTree?>.Default.Compare(x, y)
                : x.Order != y.Order ? y.Order.CompareTo(x.Order) : string.CompareOrdinal(x.Name, y.Name);
    }
}

/// <summary>
/// Every rooted tree up to order 8 (1, 1, 2, 4, 9, 20, 48 and 115 of each order): the order conditions the
/// generator checks.
/// </summary>
internal static class RootedTrees
{
    /// <summary>The highest order the generator checks.</summary>
    public const int MaxOrder = 8;

    private static readonly IReadOnlyList<IReadOnlyList<RootedTree>> ByOrder = Enumerate();

    /// <summary>Gets every tree of order 1 to <see cref="MaxOrder"/>, by order, then bushiest first.</summary>
    public static IReadOnlyList<RootedTree> All { get; } = [.. ByOrder.SelectMany(static trees => trees)];

    /// <summary>Gets the trees of one order.</summary>
    /// <param name="order">The order, 1 to <see cref="MaxOrder"/>.</param>
    /// <returns>The trees, bushiest first.</returns>
    public static IReadOnlyList<RootedTree> OfOrder(int order) =>
        order >= 1 && order <= MaxOrder ? ByOrder[order - 1] : [];

    /// <summary>Gets every tree up to an order, lowest order first.</summary>
    /// <param name="order">The highest order, clamped to <see cref="MaxOrder"/>.</param>
    /// <returns>The trees.</returns>
    public static IEnumerable<RootedTree> UpToOrder(int order) =>
        ByOrder.Take(Math.Max(0, Math.Min(order, MaxOrder))).SelectMany(static trees => trees);

    private static IReadOnlyList<IReadOnlyList<RootedTree>> Enumerate()
    {
        // Each tree of order n+1 is a tree of order n with one more leaf; canonical names remove the repeats.
        var orders = new List<IReadOnlyList<RootedTree>> { new[] { RootedTree.Leaf } };
        for (var order = 2; order <= MaxOrder; order++)
        {
            var byName = new Dictionary<string, RootedTree>(StringComparer.Ordinal);
            foreach (var tree in orders[order - 2])
            {
                foreach (var grown in GrowLeaf(tree))
                {
                    if (!byName.ContainsKey(grown.Name))
                    {
                        byName.Add(grown.Name, grown);
                    }
                }
            }

            orders.Add(
            [
                .. byName.Values
                    .OrderBy(static t => t.Height)
                    .ThenByDescending(static t => t.Children.Count)
                    .ThenBy(static t => t.Name, StringComparer.Ordinal),
            ]);
        }

        return orders;
    }

    private static IEnumerable<RootedTree> GrowLeaf(RootedTree tree)
    {
        // A new leaf on the root itself ...
        yield return RootedTree.Create(tree.Children.Append(RootedTree.Leaf));

        // ... or somewhere inside one of its subtrees.
        for (var i = 0; i < tree.Children.Count; i++)
        {
            foreach (var grownChild in GrowLeaf(tree.Children[i]))
            {
                var children = tree.Children.ToArray();
                children[i] = grownChild;
                yield return RootedTree.Create(children);
            }
        }
    }
}
