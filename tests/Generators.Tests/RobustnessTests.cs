using System.Collections.Concurrent;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using NeuralOde.Generators.Tests.Infrastructure;
using Xunit;

namespace NeuralOde.Generators.Tests;

/// <summary>
/// The generator never throws, whatever the input (DESIGN §3): a seeded mutator breaks the real declarations in many
/// ways and every run must end without a generator exception (CS8784/CS8785) and without RKG000. Whatever source the
/// generator still emits must parse.
/// </summary>
public sealed class RobustnessTests
{
    private const int Seed = 20_240_611;
    private const int Iterations = 600;

    private static readonly string[] NumberReplacements =
    [
        "1/4", "1 / 0", "1.0 / 0", "0.0 / 0", "double.NaN", "double.PositiveInfinity", "double.MaxValue", "double.Epsilon",
        "x", "\"s\"", "'c'", "null", "default", "1m", "1f", "0x10", "1_000", "1e308 * 10", "-0.0", "(1.0 / 3)", "[]",
        "new double[0]", "checked(int.MaxValue + 1)", "Math.PI", "(double)1 / 3", "1.0 / 3 / 0.5", "+(-(1.0 / 7))",
        "(1.0 / 3) * (3.0 / 1)", "1e-320", "123456789012345678901234567890.0", "1.0 / 3 + 2.0 / 3", "nameof(B)",
    ];

    private static readonly string[] AttributeArgumentReplacements =
    [
        "null", "\"\"", "\" \"", "-1", "0", "9", "100", "int.MaxValue", "int.MinValue", "\"x\"", "1.5", "typeof(int)",
        "\"" + new string('N', 300) + "\"", "\"\\u0000\"", "\"a\\nb\"", "Order = 4", "EmbeddedOrder = 5", "Name = \"q\"",
    ];

    private static readonly string[] MemberNames = ["C", "A", "B", "BHat", "BTheta", "b", "Bhat", "X", "B ", "@B"];

    private static readonly string[] Keywords = ["partial", "static", "readonly", "internal", "public", "private", "const"];

    private static readonly string[] TypeReplacements = ["int[]", "float[]", "double[][]", "double[,]", "object[]", "double", "double[][][]", "System.Double[]", "dynamic", "var", "List<double>", "double?[]"];

    private static readonly string[] Insertions = ["[", "]", "(", ")", "{", "}", ",", ";", "=", ".", "/", "-", "0", "1", "\"", "'", "<T>", "#if X\n", "\n#endif\n", "#pragma warning disable\n", "/*", "//", "\\", "@", "?", "!", "$\"{", "\u00a0", "\u2212"];

    private static readonly Func<Random, string, string>[] Mutations =
    [
        DeleteToken, DuplicateToken, SwapTokens, DeleteCharacter, InsertText, ReplaceNumber, ReplaceNumber, RemoveKeyword,
        RenameMember, Truncate, DropBracket, ReplaceAttributeArgument, ReplaceAttributeArgument, MakeGeneric, NestInGenericType,
        NestInType, ReplaceType, DuplicateMember, SplitIntoPartials, EmptyAttribute, DuplicateAttribute, AppendCopy,
    ];

    public static IReadOnlyList<string> Inputs { get; } =
    [
        .. RepoPaths.BuiltInTableauNames.Select(static n => RepoPaths.ReadBuiltInTableau(n).Text),
        .. TestTableaux.EdgeCases.Values,
    ];

    [Fact]
    public void MutatedDeclarations_NeverCrashTheGenerator()
    {
        var failures = new ConcurrentBag<(int Iteration, string Failure)>();

        Parallel.For(0, Iterations, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
        {
            var source = Mutate(new Random(Seed + i));
            var failure = Check(GeneratorHarness.Run(source));
            if (failure is not null)
            {
                failures.Add((i, $"iteration {i} (seed {Seed} + {i}): {failure}\n--- mutated source ---\n{source}\n---"));
            }
        });

        var sorted = failures.OrderBy(static f => f.Iteration).Select(static f => f.Failure).ToList();
        Assert.True(sorted.Count == 0, $"{sorted.Count} of {Iterations} mutated inputs broke the generator. First ones:\n\n{string.Join("\n\n", sorted.Take(3))}");
    }

    [Fact]
    public void MutatedDeclarations_ThroughOneIncrementalDriver_NeverCrashTheGenerator()
    {
        var random = new Random(Seed);
        var compilation = GeneratorHarness.CreateCompilation(new SourceFile("Test.cs", Inputs[0]));
        var driver = GeneratorHarness.CreateDriver();
        for (var i = 0; i < 100; i++)
        {
            var source = i % 10 == 9 ? Inputs[random.Next(Inputs.Count)] : Mutate(random);
            compilation = compilation.ReplaceSyntaxTree(compilation.SyntaxTrees.Single(), GeneratorHarness.Parse(new SourceFile("Test.cs", source)));
            var run = GeneratorHarness.Run(compilation, driver);
            driver = run.Driver;
            var failure = Check(run);
            Assert.True(failure is null, $"step {i}: {failure}\n--- source ---\n{source}\n---");
        }
    }

    /// <summary>
    /// A nested type N.Rk.Euler and a type Euler in namespace N.Rk share one full name (the compilation already fails
    /// with CS0101); the generator must not emit two files with one hint name, which fails the whole generator.
    /// </summary>
    [Fact]
    public void TwoTableauTypesWithOneFullName_DoNotCrashTheGenerator()
    {
        const string source = """
            using NeuralOde;

            namespace N
            {
                public static partial class Rk
                {
                    [ButcherTableau("One", Order = 1)]
                    public static partial class Euler
                    {
                        internal static readonly double[] C = [0];
                        internal static readonly double[][] A = [[]];
                        internal static readonly double[] B = [1];
                    }
                }
            }

            namespace N.Rk
            {
                [ButcherTableau("Two", Order = 1)]
                public static partial class Euler
                {
                    internal static readonly double[] C = [0];
                    internal static readonly double[][] A = [[]];
                    internal static readonly double[] B = [1];
                }
            }
            """;

        var run = GeneratorHarness.Run(source);

        Assert.Null(Check(run));
    }

    private static string Mutate(Random random)
    {
        var source = Inputs[random.Next(Inputs.Count)];
        var count = 1 + random.Next(3);
        for (var m = 0; m < count; m++)
        {
            source = Mutations[random.Next(Mutations.Length)](random, source);
        }

        return source;
    }

    private static string? Check(GeneratorRun run)
    {
        foreach (var result in run.RunResult.Results)
        {
            if (result.Exception is not null)
            {
                return $"the generator threw {result.Exception}";
            }

            // Broken input may leave a broken name to emit (a namespace with a missing identifier, say): only
            // well-formed input must give well-formed output.
            var inputParses = run.InputCompilation.SyntaxTrees.All(static t => !t.GetDiagnostics().Any(static d => d.Severity == DiagnosticSeverity.Error));
            foreach (var generated in inputParses ? result.GeneratedSources : [])
            {
                var errors = generated.SyntaxTree.GetDiagnostics().Where(static d => d.Severity == DiagnosticSeverity.Error).ToList();
                if (errors.Count > 0)
                {
                    return $"the generated {generated.HintName} does not parse: {errors[0]}\n{generated.SourceText}";
                }
            }
        }

        var bad = run.GeneratorDiagnostics.Concat(run.RunResult.Diagnostics)
            .FirstOrDefault(static d => d.Id is "CS8784" or "CS8785" or "RKG000" or "AD0001");
        return bad is null ? null : $"the driver reported {GeneratorHarness.Format(bad)}";
    }

    private static List<SyntaxToken> Tokens(string source) =>
        [.. SyntaxFactory.ParseTokens(source).Where(static t => !t.IsKind(SyntaxKind.EndOfFileToken) && t.Span.Length > 0)];

    private static string DeleteToken(Random random, string source)
    {
        var tokens = Tokens(source);
        if (tokens.Count == 0)
        {
            return source;
        }

        var token = tokens[random.Next(tokens.Count)];
        return source.Remove(token.SpanStart, token.Span.Length);
    }

    private static string DuplicateToken(Random random, string source)
    {
        var tokens = Tokens(source);
        if (tokens.Count == 0)
        {
            return source;
        }

        var token = tokens[random.Next(tokens.Count)];
        return source.Insert(token.Span.End, " " + token.Text);
    }

    private static string SwapTokens(Random random, string source)
    {
        var tokens = Tokens(source);
        if (tokens.Count < 2)
        {
            return source;
        }

        var i = random.Next(tokens.Count - 1);
        var (first, second) = (tokens[i], tokens[i + 1]);
        var between = source[first.Span.End..second.SpanStart];
        return source[..first.SpanStart] + second.Text + between + first.Text + source[second.Span.End..];
    }

    private static string DeleteCharacter(Random random, string source) =>
        source.Length == 0 ? source : source.Remove(random.Next(source.Length), 1);

    private static string InsertText(Random random, string source) =>
        source.Insert(random.Next(source.Length + 1), Insertions[random.Next(Insertions.Length)]);

    private static string ReplaceNumber(Random random, string source)
    {
        var numbers = Tokens(source).Where(static t => t.IsKind(SyntaxKind.NumericLiteralToken)).ToList();
        if (numbers.Count == 0)
        {
            return source;
        }

        var token = numbers[random.Next(numbers.Count)];
        return string.Concat(source.AsSpan(0, token.SpanStart), NumberReplacements[random.Next(NumberReplacements.Length)], source.AsSpan(token.Span.End));
    }

    private static string RemoveKeyword(Random random, string source)
    {
        var keyword = Keywords[random.Next(Keywords.Length)];
        var tokens = Tokens(source).Where(t => t.Text == keyword).ToList();
        if (tokens.Count == 0)
        {
            return source;
        }

        var token = tokens[random.Next(tokens.Count)];
        return source.Remove(token.SpanStart, token.Span.Length);
    }

    private static string RenameMember(Random random, string source)
    {
        var names = Tokens(source).Where(static t => t.IsKind(SyntaxKind.IdentifierToken) && t.Text is "C" or "A" or "B" or "BHat" or "BTheta").ToList();
        if (names.Count == 0)
        {
            return source;
        }

        var token = names[random.Next(names.Count)];
        return string.Concat(source.AsSpan(0, token.SpanStart), MemberNames[random.Next(MemberNames.Length)], source.AsSpan(token.Span.End));
    }

    private static string Truncate(Random random, string source) => source[..random.Next(source.Length + 1)];

    private static string DropBracket(Random random, string source)
    {
        var brackets = Tokens(source).Where(static t => t.IsKind(SyntaxKind.OpenBracketToken) || t.IsKind(SyntaxKind.CloseBracketToken)
            || t.IsKind(SyntaxKind.OpenBraceToken) || t.IsKind(SyntaxKind.CloseBraceToken)).ToList();
        if (brackets.Count == 0)
        {
            return source;
        }

        var token = brackets[random.Next(brackets.Count)];
        return source.Remove(token.SpanStart, 1);
    }

    private static string ReplaceAttributeArgument(Random random, string source)
    {
        var start = source.IndexOf("ButcherTableau(", StringComparison.Ordinal);
        if (start < 0)
        {
            return source;
        }

        start += "ButcherTableau(".Length;
        var end = source.IndexOf(')', start);
        if (end < 0)
        {
            return source;
        }

        var arguments = source[start..end].Split(',');
        var replacement = AttributeArgumentReplacements[random.Next(AttributeArgumentReplacements.Length)];
        switch (random.Next(4))
        {
            case 0:
                arguments[random.Next(arguments.Length)] = replacement;
                break;
            case 1:
                var i = random.Next(arguments.Length);
                var equals = arguments[i].IndexOf('=', StringComparison.Ordinal);
                arguments[i] = equals < 0 ? replacement : arguments[i][..(equals + 1)] + " " + replacement;
                break;
            case 2:
                arguments = [.. arguments, " " + replacement];
                break;
            default:
                var removed = random.Next(arguments.Length);
                arguments = [.. arguments.Where((_, k) => k != removed)];
                break;
        }

        return string.Concat(source.AsSpan(0, start), string.Join(",", arguments), source.AsSpan(end));
    }

    private static string MakeGeneric(Random random, string source)
    {
        var (_, index, name) = FindClass(source);
        return index < 0 ? source : source.Insert(index + name.Length, random.Next(2) == 0 ? "<T>" : "<T, U> where T : struct");
    }

    private static string NestInGenericType(Random random, string source) =>
        Nest(source, random.Next(2) == 0 ? "public static partial class Outer<T>" : "public partial class Outer<T> where T : new()");

    private static string NestInType(Random random, string source) =>
        Nest(source, random.Next(3) switch
        {
            0 => "public static class NotPartial",
            1 => "public partial struct Outer",
            _ => "public static partial class Outer { public static partial class Middle",
        });

    private static string ReplaceType(Random random, string source)
    {
        var types = new[] { "double[][]", "double[]" };
        var type = types[random.Next(types.Length)];
        var positions = new List<int>();
        for (var i = source.IndexOf(type, StringComparison.Ordinal); i >= 0; i = source.IndexOf(type, i + 1, StringComparison.Ordinal))
        {
            positions.Add(i);
        }

        if (positions.Count == 0)
        {
            return source;
        }

        var at = positions[random.Next(positions.Count)];
        return string.Concat(source.AsSpan(0, at), TypeReplacements[random.Next(TypeReplacements.Length)], source.AsSpan(at + type.Length));
    }

    private static string DuplicateMember(Random random, string source)
    {
        var lines = source.Split('\n').ToList();
        var members = Enumerable.Range(0, lines.Count).Where(i => lines[i].Contains("static readonly", StringComparison.Ordinal)).ToList();
        if (members.Count == 0)
        {
            return source;
        }

        var line = members[random.Next(members.Count)];
        lines.Insert(line, lines[line]);
        return string.Join('\n', lines);
    }

    // Moves the members after the first one into a second partial declaration of the same class.
    private static string SplitIntoPartials(Random random, string source)
    {
        var (declaration, index, name) = FindClass(source);
        var lines = source.Split('\n').ToList();
        var members = Enumerable.Range(0, lines.Count).Where(i => lines[i].Contains("static readonly", StringComparison.Ordinal)).ToList();
        if (index < 0 || members.Count < 2)
        {
            return source;
        }

        var moved = members[1 + random.Next(members.Count - 1)];
        var text = lines[moved];
        lines.RemoveAt(moved);
        var builder = new StringBuilder(string.Join('\n', lines));
        builder.Append($"\n{declaration[..declaration.IndexOf("class", StringComparison.Ordinal)]}class {name}\n{{\n{text}\n}}\n");
        return builder.ToString();
    }

    private static string EmptyAttribute(Random random, string source)
    {
        var start = source.IndexOf("[ButcherTableau(", StringComparison.Ordinal);
        if (start < 0)
        {
            return source;
        }

        var end = source.IndexOf(")]", start, StringComparison.Ordinal);
        if (end < 0)
        {
            return source;
        }

        string[] replacements = ["[ButcherTableau]", "[ButcherTableau()]", "[ButcherTableauAttribute(\"X\", Order = 1)]", "[NeuralOde.ButcherTableau(\"X\", Order = 1)]", "[ButcherTableau(name: \"X\", Order = 1)]", "[ButcherTableau(\"X\" + \"Y\", Order = 2 * 2)]"];
        return string.Concat(source.AsSpan(0, start), replacements[random.Next(replacements.Length)], source.AsSpan(end + 2));
    }

    private static string DuplicateAttribute(Random random, string source)
    {
        var start = source.IndexOf("[ButcherTableau(", StringComparison.Ordinal);
        var end = start < 0 ? -1 : source.IndexOf(")]", start, StringComparison.Ordinal);
        if (end < 0)
        {
            return source;
        }

        var attribute = source[start..(end + 2)];
        return random.Next(2) == 0
            ? source.Insert(end + 2, "\n" + attribute)
            : source.Insert(end + 2, "\n[ButcherTableau(\"Other\", Order = 1)]");
    }

    // The declaration twice in one file: duplicate types, members and attributes, all at once.
    private static string AppendCopy(Random random, string source) =>
        random.Next(2) == 0 ? source + "\n" + source : source + "\n" + source.Replace("namespace ", "namespace Copy.", StringComparison.Ordinal);

    private static string Nest(string source, string outer)
    {
        var start = source.IndexOf("[ButcherTableau", StringComparison.Ordinal);
        if (start < 0)
        {
            return source;
        }

        var closes = outer.Count(static c => c == '{') + 1;
        return source[..start] + outer + "\n{\n" + source[start..] + "\n" + new string('}', closes) + "\n";
    }

    private static (string Declaration, int NameIndex, string Name) FindClass(string source)
    {
        var attribute = source.IndexOf("[ButcherTableau", StringComparison.Ordinal);
        var classKeyword = attribute < 0 ? -1 : source.IndexOf("class ", attribute, StringComparison.Ordinal);
        if (classKeyword < 0)
        {
            return ("", -1, "");
        }

        var nameStart = classKeyword + "class ".Length;
        var nameEnd = nameStart;
        while (nameEnd < source.Length && (char.IsLetterOrDigit(source[nameEnd]) || source[nameEnd] == '_'))
        {
            nameEnd++;
        }

        var lineStart = source.LastIndexOf('\n', classKeyword) + 1;
        return (source[lineStart..nameEnd].Trim(), nameStart, source[nameStart..nameEnd]);
    }
}
