using Microsoft.CodeAnalysis;
using NeuralOde.Generators.Tests.Infrastructure;
using Xunit;

namespace NeuralOde.Generators.Tests;

/// <summary>
/// The generated code compiles against the real runtime and TorchSharp with no error and no warning, with nullable
/// annotations on, the SDK's warning level, and XML documentation diagnosed (a public member without a doc comment
/// would show as CS1591). Only hidden diagnostics (such as CS8019, an unneeded using) are let through. The built-in
/// declarations are compiled in a namespace of their own (see <see cref="RepoPaths.ReadBuiltInTableauCopy"/>).
/// </summary>
public sealed class GeneratedCodeCompilesTests
{
    public static TheoryData<string> BuiltInTableaux => [.. RepoPaths.BuiltInTableauNames];

    public static TheoryData<string> EdgeCases => [.. TestTableaux.EdgeCases.Keys];

    [Theory]
    [MemberData(nameof(BuiltInTableaux))]
    public void BuiltIn(string scheme) => AssertCompilesCleanly(GeneratorHarness.Run(RepoPaths.ReadBuiltInTableauCopy(scheme)));

    [Fact]
    public void EveryBuiltInTogether() =>
        AssertCompilesCleanly(GeneratorHarness.Run(RepoPaths.BuiltInTableauNames.Select(RepoPaths.ReadBuiltInTableauCopy)));

    [Theory]
    [MemberData(nameof(EdgeCases))]
    public void EdgeCase(string name) => AssertCompilesCleanly(GeneratorHarness.Run(TestTableaux.EdgeCases[name]));

    [Fact]
    public void EveryEdgeCaseTogether_InSeparateNamespaces()
    {
        var files = TestTableaux.EdgeCases.Select(static (pair, i) => new SourceFile(
            $"{pair.Key}.cs",
            pair.Value
                .Replace("namespace Consumer.Schemes", $"namespace Consumer.Schemes{i}", StringComparison.Ordinal)
                .Replace("ButcherTableau(\"", $"ButcherTableau(\"{pair.Key}", StringComparison.Ordinal)));

        AssertCompilesCleanly(GeneratorHarness.Run(files));
    }

    /// <summary>Declarations that are legal C# and valid tableaux, but unusual: each must still give clean code.</summary>
    public static TheoryData<string> UnusualDeclarations => [.. Unusual.Keys];

    [Theory]
    [MemberData(nameof(UnusualDeclarations))]
    public void UnusualDeclaration(string name)
    {
        // The first file also uses the generated Scheme property, so that the generated part must land on the
        // declared type: a stray type of the same name would compile on its own.
        var (files, usage) = Unusual[name];
        string[] withUsage = usage is null
            ? files
            : [files[0] + $"\ninternal static class Usage\n{{\n    internal static global::NeuralOde.Stepping.RungeKuttaScheme Get() => {usage};\n}}\n", .. files[1..]];
        var run = GeneratorHarness.Run(withUsage.Select(static (text, i) => new SourceFile($"File{i}.cs", text)));

        Assert.DoesNotContain(run.GeneratorDiagnostics, static d => d.Severity == DiagnosticSeverity.Error);
        AssertCompilesCleanly(run);
    }

    /// <summary>
    /// A tableau type named like a generated member (<c>Method</c>, <c>Scheme</c>) cannot take that member (CS0542):
    /// the generator must say so with an RKG error, or generate code that compiles.
    /// </summary>
    [Theory]
    [InlineData("Method")]
    [InlineData("Scheme")]
    public void TypeNamedLikeAGeneratedMember_IsRejectedOrCompiles(string typeName)
    {
        var run = GeneratorHarness.Run(Body("\"Reserved\"", $"public static partial class {typeName}"));

        var rejected = run.GeneratorDiagnostics.Any(static d => d.Id.StartsWith("RKG", StringComparison.Ordinal) && d.Severity == DiagnosticSeverity.Error);
        var errors = run.OutputDiagnostics.Where(static d => d.Severity == DiagnosticSeverity.Error).Select(GeneratorHarness.Format).ToList();
        Assert.True(rejected || errors.Count == 0, "Neither rejected nor compiled:\n" + string.Join("\n", errors));
    }

    [Fact]
    public void AssemblyNameThatIsNotAnIdentifier()
    {
        var compilation = GeneratorHarness.CreateCompilation(new SourceFile("HeunEuler.cs", TestTableaux.HeunEulerFileScoped))
            .WithAssemblyName("My-Company.2nd.Schemes");

        AssertCompilesCleanly(GeneratorHarness.Run(compilation));
    }

    private static readonly Dictionary<string, (string[] Files, string? Usage)> Unusual = new(StringComparer.Ordinal)
    {
        ["NameWithXmlAndQuoteCharacters"] = ([Body("\"R&K<4>\\\"\"", "public static partial class Quoted")], "Quoted.Scheme"),
        ["NonAsciiName"] = ([Body("\"Рунге–Кутта\"", "public static partial class Cyrillic")], "Cyrillic.Scheme"),
        ["KeywordIdentifiers"] = ([Body("\"Keyword\"", "public static partial class @event", ns: "@class.@namespace")], "@event.Scheme"),
        ["NestedInStruct"] = ([Wrap("public partial struct Outer", Body("\"InStruct\"", "public static partial class Inner", ns: null))], "Outer.Inner.Scheme"),
        ["NestedInRecord"] = ([Wrap("public partial record Outer", Body("\"InRecord\"", "public static partial class Inner", ns: null))], "Outer.Inner.Scheme"),
        ["NestedInRecordStruct"] = ([Wrap("public readonly partial record struct Outer", Body("\"InRecordStruct\"", "public static partial class Inner", ns: null))], "Outer.Inner.Scheme"),
        ["NestedInInterface"] = ([Wrap("public partial interface IOuter", Body("\"InInterface\"", "public static partial class Inner", ns: null))], "IOuter.Inner.Scheme"),
        ["NestedTwice"] = ([Wrap("public static partial class Outer", Wrap("internal static partial class Middle", Body("\"Twice\"", "internal static partial class Inner", ns: null), ns: null))], "Outer.Middle.Inner.Scheme"),
        ["PrivateNested"] = ([Wrap("public static partial class Outer", Body("\"Private\"", "private static partial class Inner", ns: null))], null),
        ["InternalType"] = ([Body("\"Internal\"", "internal static partial class Internal")], "Internal.Scheme"),
        // S names the scalars' class, but it is nested in Method, where it hides any outer S: no clash (unlike RKG017's names).
        ["TypeNamedS"] = ([Body("\"NamedS\"", "public static partial class S")], "S.Scheme"),
        ["MemberNamedS"] = ([Body("\"MemberS\"", "public static partial class WithS", extraMembers: "    internal static readonly int S = 1;")], "WithS.Scheme"),
        ["MembersSplitOverPartials"] =
        ([
            """
            using NeuralOde;

            namespace Consumer;

            /// <summary>Heun–Euler, in two parts.</summary>
            [ButcherTableau("Split", Order = 2, EmbeddedOrder = 1)]
            public static partial class Split
            {
                internal static readonly double[] C = [0, 1];
                internal static readonly double[][] A = [[], [1]];
            }
            """,
            """
            namespace Consumer;

            public static partial class Split
            {
                internal static readonly double[] B = [1.0 / 2, 1.0 / 2];
                internal static readonly double[] BHat = [1, 0];
            }
            """,
        ], "Split.Scheme"),
        ["FieldsOfEveryAccessibility"] =
        ([
            """
            using NeuralOde;

            namespace Consumer;

            /// <summary>Heun–Euler with public, private and internal fields.</summary>
            [ButcherTableau("Access", Order = 2, EmbeddedOrder = 1)]
            public static partial class Access
            {
                /// <summary>Nodes.</summary>
                public static readonly double[] C = [0, 1];
                private static readonly double[][] A = [[], [1]];
                internal static readonly double[] B = [1.0 / 2, 1.0 / 2];
                private static readonly double[] BHat = [1, 0];
            }
            """,
        ], "Access.Scheme"),
        ["AttributeWrittenInFull"] =
        ([
            """
            namespace Consumer;

            /// <summary>Heun–Euler.</summary>
            [global::NeuralOde.ButcherTableauAttribute(name: "Full", EmbeddedOrder = 1, Order = 2)]
            public static partial class Full
            {
                internal static readonly double[] C = [0, 1];
                internal static readonly double[][] A = [[], [1]];
                internal static readonly double[] B = [1.0 / 2, 1.0 / 2];
                internal static readonly double[] BHat = [1, 0];
            }
            """,
        ], "Full.Scheme"),
        ["ConstantsAndDecimals"] =
        ([
            """
            using NeuralOde;

            namespace Consumer;

            /// <summary>Ralston's second-order method with a decimal, a hex literal, digit separators and named constants.</summary>
            [ButcherTableau("Constants", Order = 2, EmbeddedOrder = 1)]
            public static partial class Constants
            {
                private const double Two = 0x2;
                private const double Third = 1.0 / 3;
                internal static readonly double[] C = [-0.0, Two * Third];
                internal static readonly double[][] A = [[], [2.0 / 3]];
                internal static readonly double[] B = [0.25, 3_000.0 / 4_000];
                internal static readonly double[] BHat = [1e0, 0.0];
            }
            """,
        ], "Constants.Scheme"),
    };

    private static string Body(string name, string declaration, string? ns = "Consumer", string extraMembers = "") =>
        (ns is null ? "" : $"using NeuralOde;\n\nnamespace {ns};\n\n") + $$"""
        /// <summary>Heun–Euler.</summary>
        [NeuralOde.ButcherTableau({{name}}, Order = 2, EmbeddedOrder = 1)]
        {{declaration}}
        {
        {{TestTableaux.HeunEulerMembers}}
        {{extraMembers}}
        }
        """;

    private static string Wrap(string declaration, string body, string? ns = "Consumer") =>
        (ns is null ? "" : $"namespace {ns};\n\n") + $"/// <summary>Holds a scheme.</summary>\n{declaration}\n{{\n{body}\n}}\n";

    /// <summary>The compilation settings really do report a missing doc comment: otherwise the tests above prove little.</summary>
    [Fact]
    public void Harness_ReportsMissingDocComments()
    {
        var compilation = GeneratorHarness.CreateCompilation(new SourceFile("Undocumented.cs", "namespace Consumer; public static class Undocumented { public static int X => 1; }"));

        Assert.Contains(compilation.GetDiagnostics(), static d => d.Id == "CS1591");
    }

    private static void AssertCompilesCleanly(GeneratorRun run)
    {
        run.AssertGeneratorDidNotThrow();
        Assert.NotEmpty(run.Result.GeneratedSources);
        var problems = run.OutputDiagnostics
            .Where(static d => d.Severity != DiagnosticSeverity.Hidden)
            .Select(GeneratorHarness.Format)
            .ToList();

        Assert.True(problems.Count == 0, "The output compilation reports:\n" + string.Join("\n", problems));
    }
}
