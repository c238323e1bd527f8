using CsCheck;
using Microsoft.CodeAnalysis;
using NeuralOde.Generators.Validation;
using Xunit;

namespace NeuralOde.Generators.Tests;

/// <summary>
/// The elementary weight vectors g(t) (so that Φ(t) = b·g(t)) and the density γ(t) of the order condition
/// Φ(t) = 1/γ(t): the vectors and Φ of RK4 and Heun's method against values worked out by hand, including the order-5
/// trees that RK4 misses, and on random tableaux against Butcher's definition as a sum over all labellings of the
/// tree's nodes by stages (Φ(t) = Σ b_root Π_(u→v) a_(label u)(label v)), exactly and in doubles.
/// </summary>
public sealed class ElementaryWeightsTests
{
    /// <summary>RK4: A = [[], [1/2], [0, 1/2], [0, 0, 1]], b = (1/6, 1/3, 1/3, 1/6).</summary>
    private static readonly string[][] Rk4A = [[], ["1/2"], ["0", "1/2"], ["0", "0", "1"]];
    private static readonly string[] Rk4B = ["1/6", "1/3", "1/3", "1/6"];

    /// <summary>Heun (explicit trapezoidal rule): A = [[], [1]], b = (1/2, 1/2).</summary>
    private static readonly string[][] HeunA = [[], ["1"]];
    private static readonly string[] HeunB = ["1/2", "1/2"];

    /// <summary>RK4's g(t) for every tree to order 4 (c = (0, ½, ½, 1), Ac = (0, 0, ¼, ½), A²c = (0, 0, 0, ¼)).</summary>
    [Theory]
    [InlineData("τ", "1 1 1 1")]
    [InlineData("[τ]", "0 1/2 1/2 1")]
    [InlineData("[τ²]", "0 1/4 1/4 1")]
    [InlineData("[[τ]]", "0 0 1/4 1/2")]
    [InlineData("[τ³]", "0 1/8 1/8 1")]
    [InlineData("[[τ]τ]", "0 0 1/8 1/2")]
    [InlineData("[[τ²]]", "0 0 1/8 1/4")]
    [InlineData("[[[τ]]]", "0 0 0 1/4")]
    public void Rk4_ElementaryWeightVectors(string tree, string expected)
    {
        var weights = Weights(Rk4A);

        Assert.Equal(expected, string.Join(' ', weights.Exact(Tree(tree)).Select(static g => g.ToString())));
    }

    /// <summary>
    /// Φ(t) = Σ bᵢ gᵢ(t) of RK4 and 1/γ(t): equal for every tree to order 4, and for order 5 the hand-computed values,
    /// most of them not 1/γ (RK4 has order 4, not 5).
    /// </summary>
    [Theory]
    [InlineData("τ", "1", 1)]
    [InlineData("[τ]", "1/2", 2)]
    [InlineData("[τ²]", "1/3", 3)]
    [InlineData("[[τ]]", "1/6", 6)]
    [InlineData("[τ³]", "1/4", 4)]
    [InlineData("[[τ]τ]", "1/8", 8)]
    [InlineData("[[τ²]]", "1/12", 12)]
    [InlineData("[[[τ]]]", "1/24", 24)]
    [InlineData("[τ⁴]", "5/24", 5)]
    [InlineData("[[τ]τ²]", "5/48", 10)]
    [InlineData("[[τ]²]", "1/16", 20)]
    [InlineData("[[τ²]τ]", "1/16", 15)]
    [InlineData("[[[τ]]τ]", "1/24", 30)]
    [InlineData("[[τ³]]", "1/24", 20)]
    [InlineData("[[[τ]τ]]", "1/48", 40)]
    [InlineData("[[[τ²]]]", "1/48", 60)]
    [InlineData("[[[[τ]]]]", "0", 120)]
    public void Rk4_Phi_AndGamma(string tree, string phi, int gamma)
    {
        var t = Tree(tree);

        Assert.Equal(phi, Phi(Weights(Rk4A), Rk4B, t).ToString());
        Assert.Equal(gamma, t.Density);
        Assert.Equal(t.Order <= 4, Phi(Weights(Rk4A), Rk4B, t) == Rational.Create(1, gamma));
    }

    [Theory]
    [InlineData("τ", "1 1", "1")]
    [InlineData("[τ]", "0 1", "1/2")]
    [InlineData("[τ²]", "0 1", "1/2")] // 1/γ = 1/3: order 3 fails
    [InlineData("[[τ]]", "0 0", "0")] // 1/γ = 1/6
    [InlineData("[τ⁴]", "0 1", "1/2")]
    public void Heun_ElementaryWeightsAndPhi(string tree, string g, string phi)
    {
        var weights = Weights(HeunA);
        var t = Tree(tree);

        Assert.Equal(g, string.Join(' ', weights.Exact(t).Select(static x => x.ToString())));
        Assert.Equal(phi, Phi(weights, HeunB, t).ToString());
    }

    [Fact]
    public void ExactRowSums_AreTheNodes()
    {
        Assert.Equal(["0", "1/2", "1/2", "1"], Weights(Rk4A).ExactRowSums()!.Select(static c => c.ToString()));
        Assert.Equal(["0", "1"], Weights(HeunA).ExactRowSums()!.Select(static c => c.ToString()));
    }

    [Fact]
    public void Approximate_OfAnExactTableau_IsTheExactVectorInDoubles()
    {
        var weights = Weights(Rk4A);
        foreach (var tree in RootedTrees.UpToOrder(6))
        {
            var exact = weights.Exact(tree);
            var (value, abs) = weights.Approximate(tree);

            Assert.Equal(exact.Select(static g => g.ToDouble()), value);
            Assert.Equal(value, abs); // A ≥ 0: |A| is A
        }
    }

    [Fact]
    public void InexactEntry_HasNoExactVectors()
    {
        var rows = new[] { Row([]), Row([(0.5, null)]), Row([(0.0, Rational.Zero), (0.5, Rational.Create(1, 2))]) };
        var weights = new ElementaryWeights(rows);

        Assert.False(weights.IsExact);
        Assert.Null(weights.ExactRowSums());
        Assert.Throws<InvalidOperationException>(() => weights.Exact(RootedTree.Leaf));
        Assert.Equal([0.0, 0.5, 0.5], weights.Approximate(RootedTrees.OfOrder(2)[0]).Value);
    }

    [Fact]
    public void Exact_IsMemoized_AndIndependentOfTheOrderOfQueries()
    {
        var first = Weights(Rk4A);
        var second = Weights(Rk4A);
        var trees = RootedTrees.UpToOrder(6).ToList();

        var forward = trees.Select(t => first.Exact(t)).ToList();
        var backward = Enumerable.Reverse(trees).Select(t => second.Exact(t)).Reverse().ToList();

        Assert.Equal(forward.Select(Text), backward.Select(Text));
        Assert.Same(forward[5], first.Exact(trees[5]));
    }

    /// <summary>Random small tableaux, exact: g(t) equals Butcher's sum over labellings for every tree to order 6.</summary>
    [Fact]
    public void Exact_MatchesTheSumOverLabellings_OnRandomTableaux() =>
        RandomTableau(Gen.Select(Gen.Int[-4, 4], Gen.Int[1, 3]).Select(static (p, q) => Rational.Create(p, q)))
            .Sample(static a =>
            {
                var weights = new ElementaryWeights([.. a.Select(static row => Row([.. row.Select(static x => (x.ToDouble(), new Rational?(x)))]))]);
                foreach (var tree in RootedTrees.UpToOrder(6))
                {
                    var expected = Enumerable.Range(0, a.Length).Select(i => SumOverLabellings(tree, i, a, Rational.Zero, Rational.One, static (x, y) => x + y, static (x, y) => x * y));
                    Assert.Equal(expected.Select(static g => g.ToString()), weights.Exact(tree).Select(static g => g.ToString()));
                }
            }, iter: 60);

    /// <summary>Random inexact tableaux: the doubles agree with the sum over labellings, and |A| gives its bound.</summary>
    [Fact]
    public void Approximate_MatchesTheSumOverLabellings_OnRandomTableaux() =>
        RandomTableau(Gen.Double[-2, 2])
            .Sample(static a =>
            {
                var weights = new ElementaryWeights([.. a.Select(static row => Row([.. row.Select(static x => (x, default(Rational?)))]))]);
                var absA = a.Select(static row => row.Select(Math.Abs).ToArray()).ToArray();
                foreach (var tree in RootedTrees.UpToOrder(6))
                {
                    var (value, abs) = weights.Approximate(tree);
                    for (var i = 0; i < a.Length; i++)
                    {
                        var expected = SumOverLabellings(tree, i, a, 0.0, 1.0, static (x, y) => x + y, static (x, y) => x * y);
                        var bound = SumOverLabellings(tree, i, absA, 0.0, 1.0, static (x, y) => x + y, static (x, y) => x * y);
                        Assert.True(Math.Abs(expected - value[i]) <= 1e-13 * Math.Max(1, bound), $"{tree} stage {i}: {value[i]:R} vs {expected:R}");
                        Assert.True(Math.Abs(bound - abs[i]) <= 1e-13 * Math.Max(1, bound), $"{tree} stage {i}: |A| gave {abs[i]:R} vs {bound:R}");
                        Assert.True(Math.Abs(value[i]) <= abs[i] * (1 + 1e-13), $"{tree} stage {i}: |g| {value[i]:R} > {abs[i]:R}");
                    }
                }
            }, iter: 60);

    /// <summary>A strictly lower-triangular A of 1 to 4 stages (row i has i entries).</summary>
    private static Gen<T[][]> RandomTableau<T>(Gen<T> entry) =>
        Gen.Int[1, 4].SelectMany(stages => entry.Array[stages * (stages - 1) / 2].Select(flat =>
            Enumerable.Range(0, stages).Select(i => flat.Skip(i * (i - 1) / 2).Take(i).ToArray()).ToArray()));

    /// <summary>
    /// gᵢ(t) by definition: the root labelled i, every other node by any stage, each edge parent → child contributing
    /// a(parent's label, child's label) (zero on and above the diagonal).
    /// </summary>
    private static T SumOverLabellings<T>(RootedTree tree, int rootStage, T[][] a, T zero, T one, Func<T, T, T> add, Func<T, T, T> multiply)
    {
        var parents = new List<int>();
        Flatten(tree, -1);
        var stages = a.Length;
        var labels = new int[parents.Count];
        labels[0] = rootStage;
        var total = zero;
        var count = (long)Math.Pow(stages, parents.Count - 1);
        for (long k = 0; k < count; k++)
        {
            var rest = k;
            for (var node = 1; node < labels.Length; node++)
            {
                labels[node] = (int)(rest % stages);
                rest /= stages;
            }

            var product = one;
            for (var node = 1; node < labels.Length && !Equals(product, zero); node++)
            {
                var (i, j) = (labels[parents[node]], labels[node]);
                product = j < i ? multiply(product, a[i][j]) : zero;
            }

            total = add(total, product);
        }

        return total;

        void Flatten(RootedTree node, int parent)
        {
            var index = parents.Count;
            parents.Add(parent);
            foreach (var child in node.Children)
            {
                Flatten(child, index);
            }
        }
    }

    private static RootedTree Tree(string name) => Assert.Single(RootedTrees.All, t => t.Name == name);

    private static ElementaryWeights Weights(string[][] a) =>
        new([.. a.Select(static row => Row([.. row.Select(static text => (Parse(text).ToDouble(), new Rational?(Parse(text))))]))]);

    private static Rational Phi(ElementaryWeights weights, string[] b, RootedTree tree) =>
        weights.Exact(tree).Zip(b, static (g, weight) => g * Parse(weight)).Aggregate(Rational.Zero, static (sum, x) => sum + x);

    private static ParsedArray Row((double Value, Rational? Exact)[] items) =>
        new("A[?]", Location.None, [.. items.Select(static x => new ParsedCoefficient(x.Value, x.Exact, x.Exact?.ToString() ?? x.Value.ToString("R", System.Globalization.CultureInfo.InvariantCulture), Location.None))]);

    private static Rational Parse(string text)
    {
        var parts = text.Split('/');
        return parts.Length == 1 ? Rational.FromInteger(long.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture)) : Rational.Create(long.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture), long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture));
    }

    private static string Text(Rational[] vector) => string.Join(' ', vector.Select(static x => x.ToString()));
}
