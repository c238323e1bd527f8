using System.Globalization;
using System.Numerics;
using System.Text;

namespace NeuralOde.Generators.Tests.Infrastructure;

/// <summary>
/// Writes random valid tableau declarations of order 1 (the only condition is Σb = 1, so any A will do): 1–6 stages,
/// entries drawn from 0, ±1, small fractions and decimals; nodes as the row sums; sometimes FSAL (last row of A = b,
/// c = 1, b_s = 0); sometimes embedded weights (order 1, different from b) and dense output with rows of any degree,
/// an empty row where bᵢ = 0 included, and sometimes one or two dense stages with it. Exact entries are kept as
/// fractions, so that sums stay exact.
/// </summary>
internal static class RandomTableau
{
    /// <summary>Writes one declaration, class <paramref name="name"/> in namespace <c>Consumer.Random</c>.</summary>
    /// <param name="random">The source of randomness.</param>
    /// <param name="name">The class and scheme name.</param>
    /// <returns>The file's text.</returns>
    public static string Create(Random random, string name)
    {
        var stages = random.Next(1, 7);
        var fsal = stages >= 2 && random.Next(3) == 0;
        var a = new Value[stages][];
        var b = Weights(random, fsal ? stages - 1 : stages);
        if (fsal)
        {
            b = [.. b, Value.Zero];
        }

        for (var i = 0; i < stages; i++)
        {
            a[i] = fsal && i == stages - 1
                ? b[..^1]
                : [.. Enumerable.Range(0, i).Select(_ => Entry(random))];
        }

        var c = a.Select(static row => Sum(row)).ToArray();
        Value[]? bHat = null;
        if (stages >= 2 && random.Next(2) == 0)
        {
            do
            {
                bHat = Weights(random, stages);
            }
            while (bHat.Zip(b).All(static pair => pair.First.Number == pair.Second.Number));
        }

        Value[][]? bTheta = null;
        var aDense = new List<Value[]>();
        if (random.Next(2) == 0)
        {
            bTheta = [.. b.Select(weight => Polynomial(random, weight))];

            // Sometimes dense stages: rows over the stages and the dense stages before them, weighted by polynomials
            // that vanish at θ = 1.
            var denseStages = random.Next(3) == 0 ? random.Next(1, 3) : 0;
            for (var m = 0; m < denseStages; m++)
            {
                aDense.Add([.. Enumerable.Range(0, stages + m).Select(_ => Entry(random))]);
            }

            bTheta = [.. bTheta, .. aDense.Select(_ => Polynomial(random, Value.Zero))];
        }

        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $$"""
            using NeuralOde;

            namespace Consumer.Random;

            /// <summary>A random tableau.</summary>
            [ButcherTableau("{{name}}", Order = 1{{(bHat is null ? "" : ", EmbeddedOrder = 1")}})]
            public static partial class {{name}}
            {
                internal static readonly double[] C = {{Vector(c)}};
                internal static readonly double[][] A = [{{string.Join(", ", a.Select(Vector))}}];
                internal static readonly double[] B = {{Vector(b)}};

            """);
        if (bHat is not null)
        {
            text.Append(CultureInfo.InvariantCulture, $"    internal static readonly double[] BHat = {Vector(bHat)};\n");
        }

        if (bTheta is not null)
        {
            text.Append(CultureInfo.InvariantCulture, $"    internal static readonly double[][] BTheta = [{string.Join(", ", bTheta.Select(Vector))}];\n");
        }

        if (aDense.Count > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"    internal static readonly double[] CDense = {Vector(aDense.Select(static row => Sum(row)))};\n");
            text.Append(CultureInfo.InvariantCulture, $"    internal static readonly double[][] ADense = [{string.Join(", ", aDense.Select(Vector))}];\n");
        }

        return text.Append("}\n").ToString();
    }

    private static Value Entry(Random random) => random.Next(20) switch
    {
        < 5 => Value.Zero,
        < 7 => Value.Exact(1, 1),
        < 9 => Value.Exact(-1, 1),
        < 15 => Value.Exact(random.Next(-4, 5), random.Next(2, 5)),
        _ => Value.Decimal(Math.Round((random.NextDouble() * 4) - 2, random.Next(1, 16))),
    };

    /// <summary>Random weights that sum to one: the last is one minus the others.</summary>
    private static Value[] Weights(Random random, int count)
    {
        var weights = Enumerable.Range(0, count - 1).Select(_ => Entry(random)).ToList();
        weights.Add(Value.One.Minus(Sum(weights)));
        return [.. weights];
    }

    /// <summary>The coefficients of θ, θ², … of a polynomial with p(1) = <paramref name="weight"/>; empty when it is zero.</summary>
    private static Value[] Polynomial(Random random, Value weight)
    {
        var degree = weight.Number == 0 && random.Next(2) == 0 ? 0 : random.Next(1, 5);
        if (degree == 0)
        {
            return [];
        }

        var coefficients = Enumerable.Range(0, degree - 1).Select(_ => Entry(random)).ToList();
        coefficients.Add(weight.Minus(Sum(coefficients)));
        return [.. coefficients];
    }

    private static Value Sum(IEnumerable<Value> values) =>
        values.Aggregate(Value.Zero, static (sum, v) => sum.Plus(v));

    private static string Vector(IEnumerable<Value> values) => "[" + string.Join(", ", values.Select(static v => v.Text)) + "]";

    /// <summary>A coefficient: exact as p/q (<see cref="P"/>, <see cref="Q"/>), or a decimal (<see cref="Q"/> zero).</summary>
    private readonly record struct Value(BigInteger P, BigInteger Q, double Number)
    {
        public static Value Zero => Exact(0, 1);

        public static Value One => Exact(1, 1);

        public bool IsExact => !Q.IsZero;

        public string Text => IsExact
            ? Q.IsOne ? P.ToString(CultureInfo.InvariantCulture) : $"{P.ToString(CultureInfo.InvariantCulture)}.0 / {Q.ToString(CultureInfo.InvariantCulture)}"
            : Number.ToString("R", CultureInfo.InvariantCulture) is var text && (text.Contains('.') || text.Contains('E')) ? text : text + ".0";

        public static Value Exact(BigInteger p, BigInteger q)
        {
            var gcd = BigInteger.GreatestCommonDivisor(p, q);
            (p, q) = gcd.IsZero || gcd.IsOne ? (p, q) : (p / gcd, q / gcd);
            return new Value(p, q, (double)p / (double)q);
        }

        public static Value Decimal(double value) => new(BigInteger.Zero, BigInteger.Zero, value);

        public Value Plus(Value other) =>
            IsExact && other.IsExact ? Exact((P * other.Q) + (other.P * Q), Q * other.Q) : Decimal(Number + other.Number);

        public Value Minus(Value other) =>
            IsExact && other.IsExact ? Exact((P * other.Q) - (other.P * Q), Q * other.Q) : Decimal(Number - other.Number);
    }
}
