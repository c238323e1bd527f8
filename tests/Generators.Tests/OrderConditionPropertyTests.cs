using System.Globalization;
using System.Numerics;
using CsCheck;
using NeuralOde.Generators.Tests.Infrastructure;
using NeuralOde.Generators.Validation;
using Xunit;

namespace NeuralOde.Generators.Tests;

/// <summary>
/// The generator's verdict on random members of the explicit Runge–Kutta families whose order is known in closed
/// form: Kutta's two-parameter family of third-order methods (c₂ = u, c₃ = v; Hairer–Nørsett–Wanner I, II.1, (1.17))
/// and the one-parameter second-order family (c₂ = α). Declared with exact fractions, and again with the same values
/// as 17-digit decimals (the tolerance path), each must pass its order and be reported (RKG014) when it claims one
/// more; a single coefficient moved by a small fraction must be reported too.
/// </summary>
public sealed class OrderConditionPropertyTests
{
    private const long Iterations = 25;

    /// <summary>Nodes p/q in (0, 3/2], of small height.</summary>
    private static readonly Gen<Rational> Node =
        Gen.Select(Gen.Int[1, 12], Gen.Int[1, 8]).Where(static (p, q) => p <= 3 * q / 2).Select(static (p, q) => Rational.Create(p, q));

    [Fact]
    public void ThirdOrderFamily_PassesThree_AndFailsFour() =>
        Gen.Select(Node, Node, Gen.Bool)
            .Where(static (u, v, _) => u != v && u != Rational.Create(2, 3))
            .Sample(static (u, v, asDecimals) =>
            {
                var method = Kutta3(u, v);
                AssertVerdict(method, order: 3, asDecimals, expectFailure: false);
                AssertVerdict(method, order: 4, asDecimals, expectFailure: true);
            }, iter: Iterations);

    [Fact]
    public void SecondOrderFamily_PassesTwo_AndFailsThree() =>
        Gen.Select(Node, Gen.Bool)
            .Sample(static (alpha, asDecimals) =>
            {
                var b2 = Inverse(Rational.FromInteger(2) * alpha);
                var method = new Method([Rational.Zero, alpha], [[], [alpha]], [Rational.One - b2, b2]);
                AssertVerdict(method, order: 2, asDecimals, expectFailure: false);
                AssertVerdict(method, order: 3, asDecimals, expectFailure: true);
            }, iter: Iterations);

    /// <summary>
    /// Moving one weight and another by ±ε (so that Σb still holds) breaks order 2, the nodes being distinct: reported
    /// exactly with fractions at ε = 10⁻³⁰, and with decimals at ε = 10⁻⁵ (the residual ε·|cᵢ − cⱼ| ≥ 10⁻⁵/56 stays
    /// at least 30 times the tolerance 10⁻¹⁰·Σ|bᵢ|cᵢ for these nodes).
    /// </summary>
    [Fact]
    public void ThirdOrderFamily_WithOneWeightMoved_IsReported() =>
        Gen.Select(Node, Node, Gen.Int[0, 2], Gen.Bool)
            .Where(static (u, v, _, _) => u != v && u != Rational.Create(2, 3))
            .Sample(static (u, v, stage, asDecimals) =>
            {
                var method = Kutta3(u, v);
                var other = (stage + 1) % 3;
                var epsilon = asDecimals ? Rational.Create(1, 100_000) : Rational.Create(1, BigInteger.Pow(10, 30));
                var b = method.B.ToArray();
                b[stage] += epsilon;
                b[other] -= epsilon;

                // Φ([τ]) moves by ε(c_stage − c_other) ≠ 0, so the first tree after τ fails.
                AssertVerdict(method with { B = b }, order: 3, asDecimals, expectFailure: true, failingTree: "[τ]");
            }, iter: Iterations);

    /// <summary>Kutta's third-order methods with nodes u, v (u ≠ v, u ≠ 2/3, both nonzero).</summary>
    private static Method Kutta3(Rational u, Rational v)
    {
        var two = Rational.FromInteger(2);
        var three = Rational.FromInteger(3);
        var six = Rational.FromInteger(6);
        var b2 = (two - (three * v)) * Inverse(six * u * (u - v));
        var b3 = (two - (three * u)) * Inverse(six * v * (v - u));
        var a32 = v * (v - u) * Inverse(u * (two - (three * u)));
        return new Method(
            [Rational.Zero, u, v],
            [[], [u], [v - a32, a32]],
            [Rational.One - b2 - b3, b2, b3]);
    }

    private static Rational Inverse(Rational value) =>
        Rational.One.TryDivide(value, out var inverse) ? inverse : throw new ArgumentException("zero has no inverse");

    private static void AssertVerdict(Method method, int order, bool asDecimals, bool expectFailure, string? failingTree = null)
    {
        var source = Source(method, order, asDecimals);
        var run = GeneratorHarness.Run(source);
        run.AssertGeneratorDidNotThrow();
        var diagnostics = run.GeneratorDiagnostics.Where(static d => d.Id.StartsWith("RKG", StringComparison.Ordinal) && d.Id != "RKG011").ToList();
        var report = $"{string.Join("\n", diagnostics.Select(GeneratorHarness.Format))}\nfor\n{source}";
        if (!expectFailure)
        {
            Assert.True(diagnostics.Count == 0, $"Expected no diagnostic, got:\n{report}");
            return;
        }

        Assert.True(diagnostics.Count == 1 && diagnostics[0].Id == "RKG014", $"Expected RKG014, got:\n{report}");
        var message = diagnostics[0].GetMessage(CultureInfo.InvariantCulture);
        Assert.Contains($"claims order {order}", message, StringComparison.Ordinal);
        if (failingTree is not null)
        {
            Assert.Contains($"tree {failingTree} ", message, StringComparison.Ordinal);
        }
    }

    private static string Source(Method method, int order, bool asDecimals)
    {
        string Literal(Rational x) => asDecimals
            ? x.ToDouble().ToString("E16", CultureInfo.InvariantCulture)
            : $"{x.Numerator.ToString(CultureInfo.InvariantCulture)}.0 / {x.Denominator.ToString(CultureInfo.InvariantCulture)}.0";
        string Vector(IEnumerable<Rational> xs) => "[" + string.Join(", ", xs.Select(Literal)) + "]";

        return $$"""
            using NeuralOde;

            namespace Consumer;

            /// <summary>A member of a Runge–Kutta family.</summary>
            [ButcherTableau("Family", Order = {{order}})]
            public static partial class Family
            {
                internal static readonly double[] C = {{Vector(method.C)}};
                internal static readonly double[][] A = [{{string.Join(", ", method.A.Select(Vector))}}];
                internal static readonly double[] B = {{Vector(method.B)}};
            }
            """;
    }

    /// <summary>An explicit tableau in exact fractions.</summary>
    private sealed record Method(Rational[] C, Rational[][] A, Rational[] B);
}
