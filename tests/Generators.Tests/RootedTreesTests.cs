using System.Numerics;
using NeuralOde.Generators.Validation;
using Xunit;

namespace NeuralOde.Generators.Tests;

/// <summary>
/// The rooted trees that index the order conditions: the counts of OEIS A000081 for orders 1–8, the order, density
/// γ and symmetry σ of every tree to order 5 against Butcher's table (Hairer, Nørsett and Wanner, <i>Solving
/// Ordinary Differential Equations I</i>, Table II.2.1), and for every tree to order 8 the identities that only a
/// complete set of distinct trees with the right γ satisfies: Σ n!/σ(t) = nⁿ⁻¹ (Cayley's count of labelled rooted
/// trees) and Σ n!/(σ(t)γ(t)) = (n − 1)! (monotonically labelled trees). The checks recompute each quantity from the
/// tree's shape, not from the properties under test, and enumerate the trees a second, independent way.
/// </summary>
public sealed class RootedTreesTests
{
    /// <summary>Name, order, γ and σ of every tree to order 5 (Hairer–Nørsett–Wanner, Table II.2.1).</summary>
    public static TheoryData<string, int, int, int> ButcherTable { get; } = new()
    {
        { "τ", 1, 1, 1 },
        { "[τ]", 2, 2, 1 },
        { "[τ²]", 3, 3, 2 },
        { "[[τ]]", 3, 6, 1 },
        { "[τ³]", 4, 4, 6 },
        { "[[τ]τ]", 4, 8, 1 },
        { "[[τ²]]", 4, 12, 2 },
        { "[[[τ]]]", 4, 24, 1 },
        { "[τ⁴]", 5, 5, 24 },
        { "[[τ]τ²]", 5, 10, 2 },
        { "[[τ]²]", 5, 20, 2 },
        { "[[τ²]τ]", 5, 15, 2 },
        { "[[[τ]]τ]", 5, 30, 1 },
        { "[[τ³]]", 5, 20, 6 },
        { "[[[τ]τ]]", 5, 40, 1 },
        { "[[[τ²]]]", 5, 60, 2 },
        { "[[[[τ]]]]", 5, 120, 1 },
    };

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 1)]
    [InlineData(3, 2)]
    [InlineData(4, 4)]
    [InlineData(5, 9)]
    [InlineData(6, 20)]
    [InlineData(7, 48)]
    [InlineData(8, 115)]
    public void OfOrder_CountsTheTrees(int order, int count)
    {
        var trees = RootedTrees.OfOrder(order);

        Assert.Equal(count, trees.Count);
        Assert.All(trees, tree => Assert.Equal(order, tree.Order));
        Assert.All(trees, tree => Assert.Equal(order, NodeCount(tree)));
        Assert.Equal(count, trees.Select(static t => t.Name).Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(count, trees.Select(Shape).Distinct(StringComparer.Ordinal).Count());
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(3, 4)]
    [InlineData(4, 8)]
    [InlineData(5, 17)]
    [InlineData(6, 37)]
    [InlineData(7, 85)]
    [InlineData(8, 200)]
    [InlineData(9, 200)]
    [InlineData(-1, 0)]
    public void UpToOrder_IsCumulative_AndClamped(int order, int count)
    {
        var trees = RootedTrees.UpToOrder(order).ToList();

        Assert.Equal(count, trees.Count);
        Assert.True(trees.Zip(trees.Skip(1)).All(static pair => pair.First.Order <= pair.Second.Order), "not lowest order first");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(9)]
    [InlineData(-3)]
    public void OfOrder_OutsideOneToEight_IsEmpty(int order) => Assert.Empty(RootedTrees.OfOrder(order));

    [Fact]
    public void All_IsEveryTreeToTheMaximumOrder()
    {
        Assert.Equal(8, RootedTrees.MaxOrder);
        Assert.Equal(RootedTrees.UpToOrder(RootedTrees.MaxOrder).Select(static t => t.Name), RootedTrees.All.Select(static t => t.Name));
    }

    [Theory]
    [MemberData(nameof(ButcherTable))]
    public void EveryTreeToOrderFive_HasButchersOrderDensityAndSymmetry(string name, int order, int density, int symmetry)
    {
        var tree = Assert.Single(RootedTrees.OfOrder(order), t => t.Name == name);

        Assert.Equal(order, tree.Order);
        Assert.Equal(density, tree.Density);
        Assert.Equal(density, TreeFactorial(tree));
        Assert.Equal(symmetry, Symmetry(tree));
    }

    [Fact]
    public void ButcherTable_CoversEveryTreeToOrderFive() =>
        Assert.Equal(
            ButcherTable.Select(static row => (string)row[0]).Order(StringComparer.Ordinal),
            RootedTrees.UpToOrder(5).Select(static t => t.Name).Order(StringComparer.Ordinal));

    /// <summary>Only the complete set of distinct trees of order n, with the right γ, satisfies both sums.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    public void EveryOrder_SatisfiesCayleysAndTheMonotoneLabellingIdentities(int order)
    {
        var trees = RootedTrees.OfOrder(order);
        var factorial = Factorial(order);

        // Labelled rooted trees on n nodes: nⁿ⁻¹; each unlabelled tree t has n!/σ(t) labellings.
        Assert.Equal(BigInteger.Pow(order, order - 1), trees.Aggregate(BigInteger.Zero, (sum, t) => sum + (factorial / Symmetry(t))));

        // Labellings increasing away from the root: (n − 1)!; t has α(t) = n!/(σ(t)γ(t)) of them.
        Assert.Equal(Factorial(order - 1), trees.Aggregate(BigInteger.Zero, (sum, t) => sum + (factorial / (Symmetry(t) * (BigInteger)t.Density))));
        Assert.All(trees, t => Assert.Equal(TreeFactorial(t), t.Density));
    }

    /// <summary>A second enumeration (each tree a multiset of smaller trees) finds exactly the same shapes.</summary>
    [Fact]
    public void Enumeration_MatchesAnIndependentOne()
    {
        var independent = IndependentShapes(RootedTrees.MaxOrder);
        for (var order = 1; order <= RootedTrees.MaxOrder; order++)
        {
            Assert.Equal(independent[order].Order(StringComparer.Ordinal), RootedTrees.OfOrder(order).Select(Shape).Order(StringComparer.Ordinal));
        }
    }

    [Fact]
    public void EveryTree_KeepsItsChildrenInCanonicalOrder_AndItsHeight()
    {
        foreach (var tree in RootedTrees.All)
        {
            var children = tree.Children;
            for (var i = 1; i < children.Count; i++)
            {
                var (previous, next) = (children[i - 1], children[i]);
                Assert.True(
                    previous.Order > next.Order || (previous.Order == next.Order && string.CompareOrdinal(previous.Name, next.Name) <= 0),
                    $"{tree.Name}: {previous.Name} before {next.Name}");
            }

            Assert.Equal(Height(tree), tree.Height);
            Assert.Equal(tree.Name, tree.ToString());
        }
    }

    [Fact]
    public void Create_InAnyChildOrder_GivesTheSameTree()
    {
        var leaf = RootedTree.Leaf;
        var chain = RootedTree.Create([RootedTree.Create([leaf])]);
        var cherry = RootedTree.Create([leaf, leaf]);

        var one = RootedTree.Create([leaf, chain, cherry, leaf]);
        var other = RootedTree.Create([cherry, leaf, leaf, chain]);

        Assert.Equal("[[[τ]][τ²]τ²]", one.Name);
        Assert.Equal(one.Name, other.Name);
        Assert.Equal(9, one.Order);
        Assert.Equal(9 * 6 * 3, one.Density);
        Assert.Equal(3, one.Height);
    }

    [Fact]
    public void OfOrder_ListsTheBushFirstAndTheTallTreeLast()
    {
        for (var order = 2; order <= RootedTrees.MaxOrder; order++)
        {
            var trees = RootedTrees.OfOrder(order);
            Assert.Equal(order - 1, trees[0].Children.Count);
            Assert.Equal(order, trees[0].Density);
            Assert.Equal(order - 1, trees[^1].Height);
            Assert.Equal(Factorial(order), (BigInteger)trees[^1].Density);
        }
    }

    [Theory]
    [InlineData("τ", "Σ b_i")]
    [InlineData("[τ]", "Σ b_i c_i")]
    [InlineData("[τ²]", "Σ b_i c_i²")]
    [InlineData("[[τ]]", "Σ b_i a_ij c_j")]
    [InlineData("[[τ]τ]", "Σ b_i c_i a_ij c_j")]
    [InlineData("[[τ]²]", "Σ b_i a_ij c_j a_ik c_k")]
    [InlineData("[[[τ]]]", "Σ b_i a_ij a_jk c_k")]
    [InlineData("[[[τ²]]]", "Σ b_i a_ij a_jk c_k²")]
    public void Formula_IsTheElementaryWeightInIndexNotation(string name, string formula)
    {
        var tree = Assert.Single(RootedTrees.All, t => t.Name == name);

        Assert.Equal(formula, tree.Formula);
        Assert.Equal("Σ b" + formula[3..], tree.FormulaFor("b"));
        Assert.Equal("Σ b̂" + formula[3..], tree.FormulaFor("b̂"));
    }

    private static int NodeCount(RootedTree tree) => 1 + tree.Children.Sum(NodeCount);

    private static int Height(RootedTree tree) => tree.Children.Count == 0 ? 0 : 1 + tree.Children.Max(Height);

    /// <summary>γ(t) as the product over all nodes of the size of the subtree there (the "tree factorial").</summary>
    private static int TreeFactorial(RootedTree tree)
    {
        var product = 1;
        var pending = new Stack<RootedTree>([tree]);
        while (pending.TryPop(out var node))
        {
            product *= NodeCount(node);
            foreach (var child in node.Children)
            {
                pending.Push(child);
            }
        }

        return product;
    }

    /// <summary>σ(t): the order of the automorphism group, Π over groups of m equal subtrees of m!·σ(subtree)ᵐ.</summary>
    private static BigInteger Symmetry(RootedTree tree)
    {
        var symmetry = BigInteger.One;
        foreach (var group in tree.Children.GroupBy(Shape, StringComparer.Ordinal))
        {
            symmetry *= Factorial(group.Count()) * BigInteger.Pow(Symmetry(group.First()), group.Count());
        }

        return symmetry;
    }

    /// <summary>A canonical encoding of the shape (sorted parenthesised children), independent of <see cref="RootedTree.Name"/>.</summary>
    private static string Shape(RootedTree tree) =>
        "(" + string.Concat(tree.Children.Select(Shape).Order(StringComparer.Ordinal)) + ")";

    /// <summary>Trees of order n as multisets of trees whose orders sum to n − 1, encoded like <see cref="Shape"/>.</summary>
    private static List<string>[] IndependentShapes(int maxOrder)
    {
        var byOrder = new List<string>[maxOrder + 1];
        byOrder[0] = [];
        var all = new List<(string Shape, int Order)>();
        for (var order = 1; order <= maxOrder; order++)
        {
            var shapes = new HashSet<string>(StringComparer.Ordinal);
            Choose(0, order - 1, []);
            byOrder[order] = [.. shapes];
            all.AddRange(shapes.Select(s => (s, order)));

            // Children chosen as a non-decreasing sequence of indices into the smaller trees: each multiset once.
            void Choose(int from, int remaining, List<string> chosen)
            {
                if (remaining == 0)
                {
                    Assert.True(shapes.Add("(" + string.Concat(chosen.Order(StringComparer.Ordinal)) + ")"), "a multiset was generated twice");
                    return;
                }

                for (var i = from; i < all.Count; i++)
                {
                    if (all[i].Order <= remaining)
                    {
                        chosen.Add(all[i].Shape);
                        Choose(i, remaining - all[i].Order, chosen);
                        chosen.RemoveAt(chosen.Count - 1);
                    }
                }
            }
        }

        return byOrder;
    }

    private static BigInteger Factorial(int n) =>
        Enumerable.Range(1, Math.Max(0, n)).Aggregate(BigInteger.One, static (product, k) => product * k);
}
