using System.Globalization;
using Microsoft.CodeAnalysis;
using NeuralOde.Generators.Tests.Infrastructure;
using NeuralOde.Generators.Validation;
using Xunit;

namespace NeuralOde.Generators.Tests;

/// <summary>
/// The tolerances on inexact coefficients (decimals such as Tsit5's, which are not rational arithmetic on integer
/// literals), right at their boundaries. Each check is driven through the generator with a one-parameter family of
/// declarations whose residual the validator computes without rounding (Sterbenz's lemma: x − y is exact for
/// y/2 ≤ x ≤ 2y), so that the boundary is one double wide: the last parameter whose exact residual is within the
/// documented tolerance is accepted, and the next double is reported with the check's RKG ID at the right place.
/// <list type="bullet">
/// <item>RKG009 row sums: |Σⱼ aᵢⱼ − cᵢ| ≤ <see cref="TableauValidator.SumTolerance"/>·max(1, |cᵢ|).</item>
/// <item>RKG010 weight sums: |Σ bᵢ − 1| ≤ SumTolerance·max(1, Σ|bᵢ|).</item>
/// <item>RKG016 dense output: |Σₖ bᵢₖ − bᵢ| ≤ SumTolerance·max(1, Σₖ|bᵢₖ|).</item>
/// <item>RKG014 order conditions: |Φ(t) − 1/γ(t)| ≤ <see cref="TableauValidator.OrderTolerance"/>·max(1, Σ|bᵢ|·(|A| products)ᵢ).</item>
/// </list>
/// The scaled forms are checked with a relative margin of 10⁻⁴ on each side, and on Tsit5 itself: its declared decimals
/// pass, and claiming one order more is reported.
/// </summary>
public sealed class ToleranceBoundaryTests
{
    private const double SumTolerance = TableauValidator.SumTolerance;
    private const double OrderTolerance = TableauValidator.OrderTolerance;

    [Fact]
    public void Tolerances_AreTheDocumentedOnes()
    {
        Assert.Equal(1e-12, SumTolerance);
        Assert.Equal(1e-10, OrderTolerance);
    }

    /// <summary>C = [0, c], A = [[], [x]]: the residual is |x − c|, reported at C[1].</summary>
    [Theory]
    [InlineData(1.0, +1)]
    [InlineData(1.0, -1)]
    [InlineData(4.0, +1)] // tolerance 4·10⁻¹²: scaled by |c|
    [InlineData(4.0, -1)]
    public void RowSum_AtTheBoundary(double c, int side)
    {
        var (inside, outside) = Boundary(c, side, x => Residual(x, c) <= SumTolerance * Math.Max(1, c));

        string Declaration(double x) => Members(
            c: $"[0, {Literal(c)}]",
            a: $"[[], [{Literal(x)}]]",
            b: $"[{Literal(1 - (0.5 / c))}, {Literal(0.5 / c)}]",
            bHat: "[1, 0]");

        AssertAccepted(Declaration(inside), Order(2, 1));
        var diagnostic = AssertReported("RKG009", Declaration(outside), Order(2, 1));
        Assert.Equal(Literal(c), SourceText(diagnostic));
        Assert.Contains("A[1]", Message(diagnostic), StringComparison.Ordinal);
    }

    /// <summary>B = [−0.5, y] with order 1 claimed: Σb − 1 = y − 1.5 exactly; the scale is Σ|b| = y + 0.5 ≈ 2.</summary>
    [Theory]
    [InlineData(+1)]
    [InlineData(-1)]
    public void WeightSum_AtTheBoundary(int side)
    {
        var (inside, outside) = Boundary(1.5, side, y => Residual(y, 1.5) <= SumTolerance * Math.Max(1, 0.5 + y));

        string Declaration(double y) => Members(c: "[0, 1]", a: "[[], [1]]", b: $"[-0.5, {Literal(y)}]", bHat: "[1, 0]");

        AssertAccepted(Declaration(inside), Order(1, 1));
        var diagnostic = AssertReported("RKG010", Declaration(outside), Order(1, 1));
        Assert.Equal($"[-0.5, {Literal(outside)}]", SourceText(diagnostic));
    }

    /// <summary>BHat = [z, 0]: the embedded weights get the same check, reported at BHat.</summary>
    [Theory]
    [InlineData(+1)]
    [InlineData(-1)]
    public void EmbeddedWeightSum_AtTheBoundary(int side)
    {
        var (inside, outside) = Boundary(1.0, side, z => Residual(z, 1) <= SumTolerance * Math.Max(1, z));

        string Declaration(double z) => Members(c: "[0, 1]", a: "[[], [1]]", b: "[0.5, 0.5]", bHat: $"[{Literal(z)}, 0]");

        AssertAccepted(Declaration(inside), Order(2, 1));
        var diagnostic = AssertReported("RKG010", Declaration(outside), Order(2, 1));
        Assert.Equal($"[{Literal(outside)}, 0]", SourceText(diagnostic));
        Assert.Contains("BHat", Message(diagnostic), StringComparison.Ordinal);
    }

    /// <summary>
    /// Heun's method with b₁(θ) = θ + wθ², b₂(θ) = θ²/2: b₁(1) − b₁ = (1 + w) − 0.5 exactly; the scale is 1 + |w| ≈ 1.5.
    /// </summary>
    [Theory]
    [InlineData(+1)]
    [InlineData(-1)]
    public void DenseOutput_AtTheBoundary(int side)
    {
        var (inside, outside) = Boundary(-0.5, side, w => Residual(1 + w, 0.5) <= SumTolerance * Math.Max(1, 1 + Math.Abs(w)));

        string Declaration(double w) => Members(
            c: "[0, 1]", a: "[[], [1]]", b: "[0.5, 0.5]", bHat: "[1, 0]", bTheta: $"[[1, {Literal(w)}], [0, 0.5]]");

        AssertAccepted(Declaration(inside), Order(2, 1));
        var diagnostic = AssertReported("RKG016", Declaration(outside), Order(2, 1));
        Assert.Equal($"[1, {Literal(outside)}]", SourceText(diagnostic));
        Assert.Contains("BTheta[0]", Message(diagnostic), StringComparison.Ordinal);
    }

    /// <summary>
    /// B = [1 − y, y] on Heun's A with order 2 claimed: Φ([τ]) = b·c = y, so the residual is |y − 1/2| (the scale
    /// Σ|bᵢ|cᵢ = y is below 1), reported at <c>Order = 2</c> naming the tree [τ].
    /// </summary>
    [Theory]
    [InlineData(+1)]
    [InlineData(-1)]
    public void OrderCondition_AtTheBoundary(int side)
    {
        var (inside, outside) = Boundary(0.5, side, y => Residual(y, 0.5) <= OrderTolerance);

        string Declaration(double y) => Members(c: "[0, 1]", a: "[[], [1]]", b: $"[{Literal(1 - y)}, {Literal(y)}]", bHat: "[1, 0]");

        AssertAccepted(Declaration(inside), Order(2, 1));
        var diagnostic = AssertReported("RKG014", Declaration(outside), Order(2, 1));
        Assert.Equal("Order = 2", SourceText(diagnostic));
        Assert.Contains("[τ]", Message(diagnostic), StringComparison.Ordinal);
    }

    /// <summary>
    /// The embedded order gets the same check: b̂ = [1 − z, 0, z] on Kutta's third-order A claiming order 2, where
    /// Φ([τ]) = z; reported at <c>EmbeddedOrder = 2</c>.
    /// </summary>
    [Theory]
    [InlineData(+1)]
    [InlineData(-1)]
    public void EmbeddedOrderCondition_AtTheBoundary(int side)
    {
        // The scale is Σ|b̂ᵢ|·(|A|·1)ᵢ = 3z ≈ 1.5 (|a₃₁| + |a₃₂| = 3).
        var (inside, outside) = Boundary(0.5, side, z => Residual(z, 0.5) <= OrderTolerance * Math.Max(1, 3 * z));

        // Kutta's third-order method, so that b̂ can have order 2 without equalling b (RKG019)., so that b̂ can have order 2 without equalling b (RKG019).
        string Declaration(double z) => Members(
            c: "[0, 1.0 / 2, 1]",
            a: "[[], [1.0 / 2], [-1, 2]]",
            b: "[1.0 / 6, 2.0 / 3, 1.0 / 6]",
            bHat: $"[{Literal(1 - z)}, 0, {Literal(z)}]");

        AssertAccepted(Declaration(inside), Order(3, 2));
        var diagnostic = AssertReported("RKG014", Declaration(outside), Order(3, 2));
        Assert.Equal("EmbeddedOrder = 2", SourceText(diagnostic));
        Assert.Contains("b̂", Message(diagnostic), StringComparison.Ordinal);
    }

    /// <summary>
    /// The order tolerance scales with Σ|bᵢ|·|A|-products: with b = (−49.5 − δ, 100 + δ, −49.5) and c = (0, ½, 1) the
    /// residual of [τ] is δ/2 and the scale is about 99.5, so a residual ten times the unscaled tolerance passes, and
    /// the boundary lies at 99.5·10⁻¹⁰ (checked 10⁻⁴ inside and outside, far beyond the 10⁻¹⁴ of rounding).
    /// </summary>
    [Fact]
    public void OrderCondition_ScalesWithTheWeights()
    {
        const double scale = 100 * 0.5 + 49.5 * 1;
        string Declaration(double residual) => Members(
            c: "[0, 0.5, 1]",
            a: "[[], [0.5], [0, 1]]",
            b: $"[{Literal(-49.5 - (2 * residual))}, {Literal(100 + (2 * residual))}, -49.5]",
            bHat: "[1, 0, 0]");

        AssertAccepted(Declaration(10 * OrderTolerance), Order(2, 1));
        AssertAccepted(Declaration((1 - 1e-4) * OrderTolerance * scale), Order(2, 1));
        var diagnostic = AssertReported("RKG014", Declaration((1 + 1e-4) * OrderTolerance * scale), Order(2, 1));
        Assert.Contains("[τ]", Message(diagnostic), StringComparison.Ordinal);
    }

    /// <summary>The same for the weight sum: Σ|b| ≈ 199 makes the tolerance 1.99·10⁻¹⁰.</summary>
    [Fact]
    public void WeightSum_ScalesWithTheWeights()
    {
        const double scale = 49.5 + 100 + 49.5;
        string Declaration(double residual) => Members(
            c: "[0, 0.5, 1]",
            a: "[[], [0.5], [0, 1]]",
            b: $"[-49.5, 100, {Literal(-49.5 + residual)}]",
            bHat: "[1, 0, 0]");

        AssertAccepted(Declaration(10 * SumTolerance), Order(1, 1));
        AssertAccepted(Declaration((1 - 1e-4) * SumTolerance * scale), Order(1, 1));
        AssertReported("RKG010", Declaration((1 + 1e-4) * SumTolerance * scale), Order(1, 1));
    }

    /// <summary>
    /// Tsit5's declared decimals pass every condition to orders 5 and 4, while claiming order 6 (or 5 for the
    /// embedded weights) is reported: the tolerance separates rounding in the printed digits from a real defect.
    /// </summary>
    [Theory]
    [InlineData("Order = 5, EmbeddedOrder = 4", null)]
    [InlineData("Order = 6, EmbeddedOrder = 4", "Order = 6")]
    [InlineData("Order = 5, EmbeddedOrder = 5", "EmbeddedOrder = 5")]
    public void Tsit5_PassesItsOrders_AndNotOneMore(string orders, string? reportedAt)
    {
        var file = RepoPaths.ReadBuiltInTableauCopy("Tsitouras54");
        Assert.Contains("Order = 5, EmbeddedOrder = 4", file.Text, StringComparison.Ordinal);
        var run = GeneratorHarness.Run(file with { Text = file.Text.Replace("Order = 5, EmbeddedOrder = 4", orders, StringComparison.Ordinal) });
        run.AssertGeneratorDidNotThrow();
        var diagnostics = run.GeneratorDiagnostics.Where(static d => d.Id.StartsWith("RKG", StringComparison.Ordinal)).ToList();

        if (reportedAt is null)
        {
            Assert.Empty(diagnostics);
        }
        else
        {
            var diagnostic = Assert.Single(diagnostics);
            Assert.Equal("RKG014", diagnostic.Id);
            Assert.Equal(reportedAt, SourceText(diagnostic));
        }
    }

    /// <summary>
    /// Walks from <paramref name="ideal"/> (where the residual is zero) to the last double on one side whose residual
    /// the rule accepts; the next double is rejected. Starts 10⁻³ of the tolerance inside, a few doubles from the end.
    /// </summary>
    private static (double Inside, double Outside) Boundary(double ideal, int side, Func<double, bool> accepted)
    {
        var step = side > 0 ? (Func<double, double>)Math.BitIncrement : Math.BitDecrement;
        var x = ideal;
        Assert.True(accepted(x), $"the ideal value {ideal:R} is rejected by the rule itself");

        // Bisect on the ordinal of the double (monotone on one side of ideal), then confirm the neighbours.
        long low = 0, high = 1;
        while (accepted(Offset(ideal, side, high)))
        {
            high *= 2;
        }

        while (high - low > 1)
        {
            var middle = low + ((high - low) / 2);
            if (accepted(Offset(ideal, side, middle)))
            {
                low = middle;
            }
            else
            {
                high = middle;
            }
        }

        var inside = Offset(ideal, side, low);
        var outside = step(inside);
        Assert.True(accepted(inside) && !accepted(outside) && low > 1000, $"no boundary found near {ideal:R}");
        return (inside, outside);
    }

    /// <summary>The double <paramref name="count"/> steps from <paramref name="value"/> towards <paramref name="side"/>.</summary>
    private static double Offset(double value, int side, long count)
    {
        // Positive finite doubles are ordered like their bit patterns; negative ones in reverse.
        var bits = BitConverter.DoubleToInt64Bits(Math.Abs(value));
        var towardsLarger = (side > 0) == (value > 0);
        var moved = BitConverter.Int64BitsToDouble(towardsLarger ? bits + count : bits - count);
        return value > 0 ? moved : -moved;
    }

    /// <summary>|x − y| exactly: asserts that the double subtraction rounds nothing, as the validator's does.</summary>
    private static double Residual(double x, double y)
    {
        var difference = x - y;
        Assert.Equal(RationalTests.Exact(x) - RationalTests.Exact(y), RationalTests.Exact(difference));
        return Math.Abs(difference);
    }

    private static string Literal(double value)
    {
        var text = value.ToString("R", CultureInfo.InvariantCulture);
        return text.Contains('.', StringComparison.Ordinal) || text.Contains('E', StringComparison.Ordinal) ? text : text + ".0";
    }

    private static string Order(int order, int embeddedOrder) => $"Order = {order}, EmbeddedOrder = {embeddedOrder}";

    private static string Members(string c, string a, string b, string bHat, string? bTheta = null) =>
        $"""
            internal static readonly double[] C = {c};
            internal static readonly double[][] A = {a};
            internal static readonly double[] B = {b};
            internal static readonly double[] BHat = {bHat};
        """ + (bTheta is null ? "" : $"\n    internal static readonly double[][] BTheta = {bTheta};");

    private static string Source(string members, string orders) =>
        $$"""
        using NeuralOde;

        namespace Consumer;

        /// <summary>A tableau on a tolerance boundary.</summary>
        [ButcherTableau("Boundary", {{orders}})]
        public static partial class Boundary
        {
        {{members}}
        }
        """;

    private static List<Diagnostic> Run(string members, string orders)
    {
        var run = GeneratorHarness.Run(Source(members, orders));
        run.AssertGeneratorDidNotThrow();
        return [.. run.GeneratorDiagnostics.Where(static d => d.Id.StartsWith("RKG", StringComparison.Ordinal))];
    }

    private static void AssertAccepted(string members, string orders)
    {
        var diagnostics = Run(members, orders);
        Assert.True(diagnostics.Count == 0, $"Expected no diagnostic for\n{members}\nbut got:\n{string.Join("\n", diagnostics.Select(GeneratorHarness.Format))}");
    }

    private static Diagnostic AssertReported(string id, string members, string orders)
    {
        var diagnostics = Run(members, orders);
        Assert.True(
            diagnostics.Count == 1 && diagnostics[0].Id == id,
            $"Expected exactly {id} for\n{members}\nbut got:\n{string.Join("\n", diagnostics.Select(GeneratorHarness.Format))}");
        return diagnostics[0];
    }

    private static string SourceText(Diagnostic diagnostic) =>
        diagnostic.Location.SourceTree!.GetText().ToString(diagnostic.Location.SourceSpan);

    private static string Message(Diagnostic diagnostic) => diagnostic.GetMessage(CultureInfo.InvariantCulture);
}
