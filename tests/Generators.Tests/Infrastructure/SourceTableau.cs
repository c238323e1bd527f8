using System.Globalization;
using System.Numerics;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using NeuralOde.Stepping;

namespace NeuralOde.Generators.Tests.Infrastructure;

/// <summary>
/// A tableau read straight from its declaration's source text, independently of the generator: the syntax tree of
/// the file (no semantic model, no constant folding by the compiler, none of the generator's code), each coefficient
/// evaluated exactly by a small evaluator of its own (numeric literals read digit by digit into fractions; + − × ÷,
/// unary signs, parentheses and <c>(double)</c>; C#'s truncating division when both operands are integers) and
/// rounded once to the nearest double. A coefficient whose literals are all integers (<c>-7200.0 / 2197</c>) also
/// keeps its fraction, as <see cref="NeuralOde.Stepping.Coefficient.Exact"/> documents it; one with a decimal literal
/// (<c>0.161</c>) has none. It is the reference the generated code is checked against, so that a coefficient the
/// emitter writes wrongly shows, in the metadata as in the step.
/// </summary>
public sealed class SourceTableau
{
    private SourceTableau(
        Coefficient[] c, Coefficient[][] a, Coefficient[] b, Coefficient[]? bHat, Coefficient[][]? bTheta, Coefficient[] cDense, Coefficient[][] aDense)
    {
        C = c;
        A = a;
        B = b;
        BHat = bHat;
        BTheta = bTheta;
        CDense = cDense;
        ADense = aDense;
    }

    /// <summary>Gets the nodes, [s].</summary>
    public Coefficient[] C { get; }

    /// <summary>Gets the rows of A, row i holding i entries.</summary>
    public Coefficient[][] A { get; }

    /// <summary>Gets the propagated weights, [s].</summary>
    public Coefficient[] B { get; }

    /// <summary>Gets the embedded weights, [s], or null.</summary>
    public Coefficient[]? BHat { get; }

    /// <summary>Gets the dense-output coefficients: row i holds the coefficients of θ, θ², … in bᵢ(θ); or null.</summary>
    public Coefficient[][]? BTheta { get; }

    /// <summary>Gets the nodes of the dense output's extra stages, [m] (empty without them).</summary>
    public Coefficient[] CDense { get; }

    /// <summary>Gets the rows of the dense output's extra stages, row m holding s + m entries (empty without them).</summary>
    public Coefficient[][] ADense { get; }

    /// <summary>Gets the number of stages s.</summary>
    public int Stages => B.Length;

    /// <summary>Reads the tableau of the type named <paramref name="typeName"/> in a C# source file.</summary>
    /// <param name="source">The declaration's file.</param>
    /// <param name="typeName">The simple name of the tableau class.</param>
    /// <returns>The tableau.</returns>
    /// <exception cref="NotSupportedException">A coefficient uses syntax the evaluator does not read.</exception>
    public static SourceTableau Read(string source, string typeName)
    {
        var root = CSharpSyntaxTree.ParseText(source).GetRoot();
        var type = root.DescendantNodes().OfType<ClassDeclarationSyntax>().Single(t => t.Identifier.ValueText == typeName);
        var fields = type.Members.OfType<FieldDeclarationSyntax>()
            .SelectMany(static f => f.Declaration.Variables)
            .Where(static v => v.Initializer is not null)
            .ToDictionary(static v => v.Identifier.ValueText, static v => v.Initializer!.Value, StringComparer.Ordinal);

        Coefficient[] Vector(string name) => [.. Elements(fields[name]).Select(Coefficient)];
        Coefficient[][] Matrix(string name) => [.. Elements(fields[name]).Select(row => Elements(row).Select(Coefficient).ToArray())];

        return new SourceTableau(
            Vector("C"),
            Matrix("A"),
            Vector("B"),
            fields.ContainsKey("BHat") ? Vector("BHat") : null,
            fields.ContainsKey("BTheta") ? Matrix("BTheta") : null,
            fields.ContainsKey("CDense") ? Vector("CDense") : [],
            fields.ContainsKey("ADense") ? Matrix("ADense") : []);
    }

    /// <summary>Evaluates one coefficient exactly: the nearest double, and the fraction when every literal is an integer.</summary>
    /// <param name="expression">The constant expression.</param>
    /// <returns>The coefficient.</returns>
    public static Coefficient Coefficient(ExpressionSyntax expression)
    {
        var (p, q, _, integerLiterals) = Exact(expression);
        var fraction = q.IsOne ? p.ToString(CultureInfo.InvariantCulture) : $"{p.ToString(CultureInfo.InvariantCulture)}/{q.ToString(CultureInfo.InvariantCulture)}";
        return new Coefficient(Nearest(p, q), integerLiterals ? fraction : null);
    }

    /// <summary>Evaluates a constant expression given as text, for example <c>-7200.0 / 2197</c>.</summary>
    /// <param name="text">The expression.</param>
    /// <returns>The coefficient.</returns>
    public static Coefficient Coefficient(string text) => Coefficient(SyntaxFactory.ParseExpression(text));

    private static IEnumerable<ExpressionSyntax> Elements(ExpressionSyntax array) => array switch
    {
        CollectionExpressionSyntax collection => collection.Elements.Select(static e =>
            e is ExpressionElementSyntax element ? element.Expression : throw Unsupported(e)),
        ArrayCreationExpressionSyntax { Initializer: { } initializer } => initializer.Expressions,
        ImplicitArrayCreationExpressionSyntax creation => creation.Initializer.Expressions,
        InitializerExpressionSyntax initializer => initializer.Expressions,
        _ => throw Unsupported(array),
    };

    /// <summary>
    /// The exact value p/q (q &gt; 0, lowest terms), whether C# types the expression as an integer, and whether every
    /// literal in it is integer-valued.
    /// </summary>
    private static (BigInteger P, BigInteger Q, bool Integral, bool IntegerLiterals) Exact(ExpressionSyntax expression)
    {
        switch (expression)
        {
            case ParenthesizedExpressionSyntax parenthesized:
                return Exact(parenthesized.Expression);
            case PrefixUnaryExpressionSyntax unary when unary.IsKind(SyntaxKind.UnaryMinusExpression):
                var (p, q, integral, integerLiterals) = Exact(unary.Operand);
                return (-p, q, integral, integerLiterals);
            case PrefixUnaryExpressionSyntax unary when unary.IsKind(SyntaxKind.UnaryPlusExpression):
                return Exact(unary.Operand);
            case CastExpressionSyntax cast when cast.Type is PredefinedTypeSyntax { Keyword.ValueText: "double" }:
                var inner = Exact(cast.Expression);
                return (inner.P, inner.Q, false, inner.IntegerLiterals);
            case LiteralExpressionSyntax literal when literal.IsKind(SyntaxKind.NumericLiteralExpression):
                var (literalP, literalQ, literalIntegral) = Literal(literal.Token.Text);
                return (literalP, literalQ, literalIntegral, literalQ.IsOne);
            case BinaryExpressionSyntax binary:
                var left = Exact(binary.Left);
                var right = Exact(binary.Right);
                var bothIntegral = left.Integral && right.Integral;
                var allIntegerLiterals = left.IntegerLiterals && right.IntegerLiterals;
                (BigInteger, BigInteger) value = binary.Kind() switch
                {
                    SyntaxKind.AddExpression => ((left.P * right.Q) + (right.P * left.Q), left.Q * right.Q),
                    SyntaxKind.SubtractExpression => ((left.P * right.Q) - (right.P * left.Q), left.Q * right.Q),
                    SyntaxKind.MultiplyExpression => (left.P * right.P, left.Q * right.Q),
                    SyntaxKind.DivideExpression when right.P.IsZero => throw Unsupported(binary),

                    // Integer division truncates towards zero, as BigInteger.Divide does.
                    SyntaxKind.DivideExpression when bothIntegral => (BigInteger.Divide(left.P, right.P), BigInteger.One),
                    SyntaxKind.DivideExpression => (left.P * right.Q * right.P.Sign, left.Q * BigInteger.Abs(right.P)),
                    _ => throw Unsupported(binary),
                };
                var gcd = BigInteger.GreatestCommonDivisor(value.Item1, value.Item2);
                return gcd.IsZero || gcd.IsOne
                    ? (value.Item1, value.Item2, bothIntegral, allIntegerLiterals)
                    : (value.Item1 / gcd, value.Item2 / gcd, bothIntegral, allIntegerLiterals);
            default:
                throw Unsupported(expression);
        }
    }

    /// <summary>A decimal literal's exact value from its digits: <c>3</c>, <c>1.0</c>, <c>0.0961</c>, <c>2.5e-3</c>, <c>1_000d</c>.</summary>
    private static (BigInteger P, BigInteger Q, bool Integral) Literal(string text)
    {
        text = text.Replace("_", "", StringComparison.Ordinal);
        if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) || text.StartsWith("0b", StringComparison.OrdinalIgnoreCase)
            || text.EndsWith('f') || text.EndsWith('F'))
        {
            // Hexadecimal, binary and float literals are not read (a float literal is not its decimal value).
            throw new NotSupportedException($"The literal '{text}' is not read by the reference evaluator.");
        }

        var real = text.EndsWith('d') || text.EndsWith('D') || text.EndsWith('m') || text.EndsWith('M')
            || text.Contains('.', StringComparison.Ordinal) || text.Contains('e', StringComparison.OrdinalIgnoreCase);
        text = text.TrimEnd('d', 'D', 'm', 'M', 'u', 'U', 'l', 'L');
        var exponent = 0;
        var e = text.IndexOfAny(['e', 'E']);
        if (e >= 0)
        {
            exponent = int.Parse(text[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            text = text[..e];
        }

        var point = text.IndexOf('.', StringComparison.Ordinal);
        if (point >= 0)
        {
            exponent -= text.Length - point - 1;
            text = text.Remove(point, 1);
        }

        var digits = BigInteger.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture);
        return exponent >= 0
            ? (digits * BigInteger.Pow(10, exponent), BigInteger.One, !real)
            : Reduce(digits, BigInteger.Pow(10, -exponent), !real);
    }

    private static (BigInteger P, BigInteger Q, bool Integral) Reduce(BigInteger p, BigInteger q, bool integral)
    {
        var gcd = BigInteger.GreatestCommonDivisor(p, q);
        return gcd.IsZero || gcd.IsOne ? (p, q, integral) : (p / gcd, q / gcd, integral);
    }

    /// <summary>
    /// The double nearest p/q: its decimal expansion to 1,100 places, with a final 1 when the rest is nonzero (so that
    /// a value between two decimals is never read as a midpoint between doubles), parsed by .NET's correctly rounding
    /// <see cref="double.Parse(string, IFormatProvider)"/>.
    /// </summary>
    private static double Nearest(BigInteger p, BigInteger q)
    {
        const int places = 1100;
        var scaled = BigInteger.DivRem(BigInteger.Abs(p) * BigInteger.Pow(10, places), q, out var rest);
        var digits = scaled.ToString(CultureInfo.InvariantCulture).PadLeft(places + 1, '0');
        var text = (p.Sign < 0 ? "-" : "") + digits[..^places] + "." + digits[^places..] + (rest.IsZero ? "" : "1");
        return double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
    }

    private static NotSupportedException Unsupported(SyntaxNode node) =>
        new($"The reference evaluator does not read '{node}' ({node.Kind()}).");
}
