using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using NeuralOde.Generators.Tests.Infrastructure;
using Xunit;

namespace NeuralOde.Generators.Tests;

/// <summary>
/// One test (or more) per diagnostic RKG001–RKG020: the ID, the severity, the exact span (marked in the source as
/// <c>{|RKGnnn:text|}</c>) and the key parts of the message. Every RKG diagnostic a run reports must be marked.
/// </summary>
public sealed class DiagnosticTests
{
    private const string HeunEulerAttribute = """[ButcherTableau("HeunEuler", Order = 2, EmbeddedOrder = 1)]""";
    private const string HeunEulerClass = "public static partial class HeunEuler";

    [Fact]
    public void RKG001_NotPartial()
    {
        var diagnostic = Verify(Scheme(TestTableaux.HeunEulerMembers, declaration: "public static class {|RKG001:HeunEuler|}"));

        AssertMessage(diagnostic, "HeunEuler", "partial");
    }

    [Fact]
    public void RKG001_NestedInNonPartialType()
    {
        var diagnostic = Verify("""
            using NeuralOde;

            namespace Consumer;

            public static class {|RKG001:Outer|}
            {
                [ButcherTableau("HeunEuler", Order = 2, EmbeddedOrder = 1)]
                public static partial class HeunEuler
                {
                    internal static readonly double[] C = [0, 1];
                    internal static readonly double[][] A = [[], [1]];
                    internal static readonly double[] B = [1.0 / 2, 1.0 / 2];
                    internal static readonly double[] BHat = [1, 0];
                }
            }
            """);

        AssertMessage(diagnostic, "Outer", "partial");
    }

    /// <summary>
    /// A file-local type cannot get a generated part: a part in another file would declare a second type, and
    /// <c>FileLocal.Scheme</c> would not exist.
    /// </summary>
    [Fact]
    public void RKG001_FileLocal()
    {
        var diagnostic = Verify(Scheme(TestTableaux.HeunEulerMembers, declaration: "file static partial class {|RKG001:HeunEuler|}"));

        AssertMessage(diagnostic, "HeunEuler", "file-local");
    }

    [Fact]
    public void RKG002_Generic()
    {
        var diagnostic = Verify(Scheme(TestTableaux.HeunEulerMembers, declaration: "public static partial class {|RKG002:HeunEuler|}<T>"));

        AssertMessage(diagnostic, "HeunEuler", "generic");
    }

    [Fact]
    public void RKG003_NotStatic()
    {
        var diagnostic = Verify(Scheme(TestTableaux.HeunEulerMembers, declaration: "public partial class {|RKG003:HeunEuler|}"));

        AssertMessage(diagnostic, "HeunEuler", "static");
    }

    [Fact]
    public void RKG004_MissingMember_IsReportedOnTheClass()
    {
        const string members = """
                internal static readonly double[] C = [0, 1];
                internal static readonly double[][] A = [[], [1]];
                internal static readonly double[] BHat = [1, 0];
            """;

        var diagnostic = Verify(Scheme(members, declaration: "public static partial class {|RKG004:HeunEuler|}"));

        AssertMessage(diagnostic, "'B'");
    }

    [Fact]
    public void RKG004_MistypedMember()
    {
        const string members = """
                internal static readonly double[] C = [0, 1];
                internal static readonly double[][] A = [[], [1]];
                internal static readonly float[] {|RKG004:B|} = [0.5f, 0.5f];
                internal static readonly double[] BHat = [1, 0];
            """;

        var diagnostic = Verify(Scheme(members));

        AssertMessage(diagnostic, "'B'", "double[]");
    }

    [Fact]
    public void RKG004_NotReadonly()
    {
        const string members = """
                internal static readonly double[] C = [0, 1];
                internal static double[][] {|RKG004:A|} = [[], [1]];
                internal static readonly double[] B = [1.0 / 2, 1.0 / 2];
                internal static readonly double[] BHat = [1, 0];
            """;

        var diagnostic = Verify(Scheme(members));

        AssertMessage(diagnostic, "'A'", "static readonly");
    }

    [Fact]
    public void RKG004_NoInitializer()
    {
        const string members = """
                internal static readonly double[] C = [0, 1];
                internal static readonly double[][] A = [[], [1]];
                internal static readonly double[] B = [1.0 / 2, 1.0 / 2];
                internal static readonly double[] {|RKG004:BHat|};
            """;

        var diagnostic = Verify(Scheme(members));

        AssertMessage(diagnostic, "'BHat'", "initializer");
    }

    [Fact]
    public void RKG004_MistypedBTheta()
    {
        const string members = TestTableaux.HeunEulerMembers + """

                internal static readonly double[] {|RKG004:BTheta|} = [1.0 / 2, 1.0 / 2];
            """;

        var diagnostic = Verify(Scheme(members));

        AssertMessage(diagnostic, "'BTheta'", "double[][]");
    }

    [Fact]
    public void RKG005_NonConstantCoefficient()
    {
        const string members = """
                internal static readonly double[] C = [0, 1];
                internal static readonly double[][] A = [[], [1]];
                internal static readonly double[] B = [{|RKG005:Math.Sqrt(0.25)|}, 1.0 / 2];
                internal static readonly double[] BHat = [1, 0];
            """;

        var diagnostic = Verify(Scheme(members));

        AssertMessage(diagnostic, "Math.Sqrt(0.25)");
    }

    [Fact]
    public void ConstantReferences_AreConstantCoefficients()
    {
        const string members = """
                private const double Half = 0.5;
                internal static readonly double[] C = [0, 1];
                internal static readonly double[][] A = [[], [1]];
                internal static readonly double[] B = [Half, 1 - Half];
                internal static readonly double[] BHat = [1, 0];
            """;

        VerifyAll(Scheme(members), ignore: []);
    }

    [Fact]
    public void RKG006_IntegerDivision()
    {
        const string members = """
                internal static readonly double[] C = [0, 1];
                internal static readonly double[][] A = [[], [1]];
                internal static readonly double[] B = [{|RKG006:1 / 2|}, 1.0 / 2];
                internal static readonly double[] BHat = [1, 0];
            """;

        var diagnostic = Verify(Scheme(members));

        AssertMessage(diagnostic, "1 / 2", "1.0");
    }

    [Fact]
    public void RKG007_ShapeMismatch()
    {
        const string members = """
                internal static readonly double[] C = [0, 1];
                internal static readonly double[][] A = [[], [1]];
                internal static readonly double[] B = {|RKG007:[1.0 / 2, 1.0 / 2, 0]|};
                internal static readonly double[] BHat = [1, 0];
            """;

        var diagnostic = Verify(Scheme(members));

        AssertMessage(diagnostic, "'B'", "3", "2");
    }

    [Fact]
    public void RKG008_RowOfATooLong()
    {
        const string members = """
                internal static readonly double[] C = [0, 1];
                internal static readonly double[][] A = [[], {|RKG008:[1, 0]|}];
                internal static readonly double[] B = [1.0 / 2, 1.0 / 2];
                internal static readonly double[] BHat = [1, 0];
            """;

        var diagnostic = Verify(Scheme(members));

        AssertMessage(diagnostic, "explicit");
    }

    [Fact]
    public void RKG008_FirstNodeNotZero()
    {
        const string members = """
                internal static readonly double[] C = [{|RKG008:1.0 / 4|}, 1];
                internal static readonly double[][] A = [[], [1]];
                internal static readonly double[] B = [1.0 / 2, 1.0 / 2];
                internal static readonly double[] BHat = [1, 0];
            """;

        var diagnostic = Verify(Scheme(members));

        AssertMessage(diagnostic, "C[0]");
    }

    [Fact]
    public void RKG009_RowSumViolated()
    {
        const string members = """
                internal static readonly double[] C = [0, {|RKG009:1.0 / 2|}];
                internal static readonly double[][] A = [[], [1]];
                internal static readonly double[] B = [1.0 / 2, 1.0 / 2];
                internal static readonly double[] BHat = [1, 0];
            """;

        var diagnostic = Verify(Scheme(members));

        AssertMessage(diagnostic, "C[1]", "1/2", "1");
    }

    [Fact]
    public void RKG010_WeightsDoNotSumToOne()
    {
        const string members = """
                internal static readonly double[] C = [0, 1];
                internal static readonly double[][] A = [[], [1]];
                internal static readonly double[] B = {|RKG010:[1.0 / 2, 1.0 / 4]|};
                internal static readonly double[] BHat = [1, 0];
            """;

        var diagnostic = Verify(Scheme(members));

        AssertMessage(diagnostic, "B", "3/4");
    }

    [Fact]
    public void RKG010_EmbeddedWeightsDoNotSumToOne()
    {
        const string members = """
                internal static readonly double[] C = [0, 1];
                internal static readonly double[][] A = [[], [1]];
                internal static readonly double[] B = [1.0 / 2, 1.0 / 2];
                internal static readonly double[] BHat = {|RKG010:[1, 1]|};
            """;

        var diagnostic = Verify(Scheme(members));

        AssertMessage(diagnostic, "BHat", "2");
    }

    [Fact]
    public void RKG011_NoBHat_IsInfo()
    {
        var diagnostic = Verify(Scheme(TestTableaux.ClassicRk4Members, """[ButcherTableau("ClassicRK4", Order = 4)]""", "public static partial class {|RKG011:ClassicRk4|}"));

        Assert.Equal(DiagnosticSeverity.Info, diagnostic.Severity);
        AssertMessage(diagnostic, "ClassicRK4", "fixed");
    }

    [Fact]
    public void RKG011_CanBeSuppressedWithPragma()
    {
        var source = "#pragma warning disable RKG011\n" + Scheme(TestTableaux.ClassicRk4Members, """[ButcherTableau("ClassicRK4", Order = 4)]""", "public static partial class ClassicRk4");

        var run = GeneratorHarness.Run(source);

        run.AssertGeneratorDidNotThrow();
        // The driver filters generator diagnostics through the compilation's options and the tree's pragmas, as the
        // compiler does for its own: the info stays in the list, marked suppressed, and so is never shown.
        var diagnostic = Assert.Single(run.GeneratorDiagnostics, static d => d.Id == "RKG011");
        Assert.True(diagnostic.IsSuppressed, GeneratorHarness.Format(diagnostic));
        Assert.True(run.GeneratedSources.ContainsKey("Consumer.ClassicRk4.g.cs"), "A suppressed info must not stop generation.");
    }

    [Fact]
    public void RKG012_DuplicateName_IsCaseInsensitive()
    {
        var source = Scheme(TestTableaux.HeunEulerMembers) + "\n" + Scheme(
            TestTableaux.HeunEulerMembers,
            """[ButcherTableau({|RKG012:"HEUNEULER"|}, Order = 2, EmbeddedOrder = 1)]""",
            "public static partial class HeunEuler2",
            withHeader: false);

        var diagnostic = Verify(source);

        AssertMessage(diagnostic, "HEUNEULER", "HeunEuler");
    }

    [Fact]
    public void RKG012_DuplicateNameAcrossFiles()
    {
        var first = Scheme(TestTableaux.HeunEulerMembers);
        var (second, expected) = Markup.Parse(Scheme(
            TestTableaux.HeunEulerMembers,
            """[ButcherTableau({|RKG012:"heuneuler"|}, Order = 2, EmbeddedOrder = 1)]""",
            "public static partial class HeunEuler2"));

        var run = GeneratorHarness.Run(new SourceFile("A.cs", first), new SourceFile("B.cs", second));

        run.AssertGeneratorDidNotThrow();
        var diagnostic = Assert.Single(run.GeneratorDiagnostics, static d => d.Id.StartsWith("RKG", StringComparison.Ordinal));
        Assert.Equal("RKG012", diagnostic.Id);
        Assert.Equal("B.cs", diagnostic.Location.SourceTree?.FilePath);
        Assert.Equal(Assert.Single(expected).Span, diagnostic.Location.SourceSpan);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("RK\t4")]
    [InlineData("RK\u00014")]
    [InlineData("ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLM")]
    public void RKG013_InvalidName(string name)
    {
        var literal = SymbolDisplay.FormatLiteral(name, quote: true);

        var diagnostic = Verify(Scheme(TestTableaux.HeunEulerMembers, $"[ButcherTableau({{|RKG013:{literal}|}}, Order = 2, EmbeddedOrder = 1)]"));

        AssertMessage(diagnostic, "name");
    }

    [Fact]
    public void RKG013_NullName()
    {
        var diagnostic = Verify(Scheme(TestTableaux.HeunEulerMembers, "[ButcherTableau({|RKG013:null|}, Order = 2, EmbeddedOrder = 1)]"));

        AssertMessage(diagnostic, "name");
    }

    [Fact]
    public void Name_Of64Characters_IsValid() =>
        VerifyAll(Scheme(TestTableaux.HeunEulerMembers, $"[ButcherTableau(\"{new string('x', 64)}\", Order = 2, EmbeddedOrder = 1)]"), ignore: []);

    /// <summary>
    /// RK4 with B = [1/4, 1/4, 1/4, 1/4]: Σb = 1 and b·c = 1/2 hold, b·c² = 3/8 misses 1/3 by 1/24 (tree [τ²]).
    /// </summary>
    [Fact]
    public void RKG014_ThirdOrderDefect_NamesTheTreeAndResidual()
    {
        const string members = """
                internal static readonly double[] C = [0, 1.0 / 2, 1.0 / 2, 1];
                internal static readonly double[][] A = [[], [1.0 / 2], [0, 1.0 / 2], [0, 0, 1]];
                internal static readonly double[] B = [1.0 / 4, 1.0 / 4, 1.0 / 4, 1.0 / 4];
            """;

        var diagnostics = VerifyAll(
            Scheme(members, """[ButcherTableau("WrongRK4", {|RKG014:Order = 4|})]"""),
            ignore: ["RKG011"]);

        var diagnostic = Assert.Single(diagnostics);
        AssertMessage(diagnostic, "WrongRK4", "[τ²]", "1/24");
    }

    /// <summary>Heun–Euler claiming an order-2 embedding: b̂ = [1, 0] gives b̂·c = 0, not 1/2 (tree [τ]).</summary>
    [Fact]
    public void RKG014_WrongEmbeddedOrder()
    {
        var diagnostic = Verify(Scheme(TestTableaux.HeunEulerMembers, """[ButcherTableau("HeunEuler", Order = 2, {|RKG014:EmbeddedOrder = 2|})]"""));

        AssertMessage(diagnostic, "BHat", "[τ]", "1/2");
    }

    [Fact]
    public void RKG015_OrderMissing()
    {
        var diagnostic = Verify(Scheme(TestTableaux.HeunEulerMembers, """[{|RKG015:ButcherTableau("HeunEuler", EmbeddedOrder = 1)|}]"""));

        AssertMessage(diagnostic, "Order");
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("9")]
    [InlineData("int.MaxValue")]
    public void RKG015_OrderOutOfRange(string order)
    {
        var diagnostic = Verify(Scheme(TestTableaux.HeunEulerMembers, $$"""[ButcherTableau("HeunEuler", {|RKG015:Order = {{order}}|}, EmbeddedOrder = 1)]"""));

        AssertMessage(diagnostic, "Order");
    }

    [Fact]
    public void RKG015_EmbeddedOrderWithoutBHat()
    {
        // RKG015 alone: RKG011 (no BHat, fixed steps only) would only repeat that BHat is missing.
        var diagnostic = Verify(Scheme(TestTableaux.ClassicRk4Members, """[ButcherTableau("ClassicRK4", Order = 4, {|RKG015:EmbeddedOrder = 3|})]"""));

        AssertMessage(diagnostic, "EmbeddedOrder", "BHat");
    }

    [Fact]
    public void RKG015_BHatWithoutEmbeddedOrder()
    {
        var diagnostic = Verify(Scheme(TestTableaux.HeunEulerMembers, """[{|RKG015:ButcherTableau("HeunEuler", Order = 2)|}]"""));

        AssertMessage(diagnostic, "EmbeddedOrder", "BHat");
    }

    [Fact]
    public void RKG016_DenseOutputRowCount()
    {
        const string members = TestTableaux.BogackiShampineMembers + """

                internal static readonly double[][] BTheta =
                {|RKG016:[
                    [1, -4.0 / 3, 5.0 / 9],
                    [0, 1, -2.0 / 3],
                    [0, 4.0 / 3, -8.0 / 9],
                ]|};
            """;

        var diagnostic = Verify(Scheme(members, """[ButcherTableau("BS32Dense", Order = 3, EmbeddedOrder = 2, DenseOrder = 3)]"""));

        AssertMessage(diagnostic, "BTheta", "3", "4");
    }

    [Fact]
    public void RKG016_DenseOutputDoesNotEndAtB()
    {
        const string members = TestTableaux.BogackiShampineMembers + """

                internal static readonly double[][] BTheta =
                [
                    [1, -4.0 / 3, 5.0 / 9],
                    {|RKG016:[0, 1, -1.0 / 3]|},
                    [0, 4.0 / 3, -8.0 / 9],
                    [0, -1, 1],
                ];
            """;

        var diagnostic = Verify(Scheme(members, """[ButcherTableau("BS32Dense", Order = 3, EmbeddedOrder = 2, DenseOrder = 3)]"""));

        AssertMessage(diagnostic, "BTheta[1]", "2/3", "1/3");
    }

    /// <summary>A row past the stages weights the end slope f(t + h, y₁), whose weight must vanish at θ = 1.</summary>
    [Fact]
    public void RKG016_EndSlopeWeightDoesNotVanishAtOne()
    {
        const string members = """
                internal static readonly double[] C = [0, 1];
                internal static readonly double[][] A = [[], [1]];
                internal static readonly double[] B = [1.0 / 2, 1.0 / 2];
                internal static readonly double[] BHat = [1, 0];
                internal static readonly double[][] BTheta =
                [
                    [1, -1.0 / 2],
                    [0, 1.0 / 2],
                    {|RKG016:[0, 1.0 / 4]|},
                ];
            """;

        var diagnostic = Verify(Scheme(members, """[ButcherTableau("HeunEuler", Order = 2, EmbeddedOrder = 1, DenseOrder = 2)]"""));

        AssertMessage(diagnostic, "BTheta[2]", "1/4", "end slope", "must be 0");
    }

    /// <summary>
    /// bᵢ(θ) = θ·bᵢ ends at B and has order 1, but not 2: the θ coefficient of Σ bᵢ(θ) cᵢ is Σ bᵢ cᵢ = 1/2, where the
    /// continuous condition Σ bᵢ(θ) cᵢ = θ²/2 wants 0.
    /// </summary>
    [Fact]
    public void RKG020_DenseOrderNotMet_NamesTheTreeAndPower()
    {
        const string members = TestTableaux.BogackiShampineMembers + """

                internal static readonly double[][] BTheta = [[2.0 / 9], [1.0 / 3], [4.0 / 9], [0]];
            """;

        var diagnostic = Verify(Scheme(members, """[ButcherTableau("BS32Linear", Order = 3, EmbeddedOrder = 2, {|RKG020:DenseOrder = 2|})]"""));

        AssertMessage(diagnostic, "'BS32Linear'", "dense order 2", "[τ]", "the θ coefficient", "Σ b_i(θ) c_i", "is 1/2, not 0", "residual 1/2");
    }

    /// <summary>A dense output that uses the end slope is checked on the tableau extended by it (a stage with the row B, c = 1).</summary>
    [Fact]
    public void RKG020_EndSlopeRowEntersTheConditions()
    {
        // Heun's stages and the end slope (c₃ = 1): the rows end at B and have order 1, but the end slope's θ term
        // gives Σ bᵢ(θ) cᵢ a θ coefficient of 1/4, where order 2 wants 0.
        const string members = """
                internal static readonly double[] C = [0, 1];
                internal static readonly double[][] A = [[], [1]];
                internal static readonly double[] B = [1.0 / 2, 1.0 / 2];
                internal static readonly double[] BHat = [1, 0];
                internal static readonly double[][] BTheta =
                [
                    [3.0 / 4, -1.0 / 4],
                    [0, 1.0 / 2],
                    [1.0 / 4, -1.0 / 4],
                ];
            """;

        var diagnostics = VerifyAll(Scheme(members, """[ButcherTableau("HeunEuler", Order = 2, EmbeddedOrder = 1, {|RKG020:DenseOrder = 2|})]"""), ignore: []);

        AssertMessage(Assert.Single(diagnostics), "dense order 2", "[τ]", "the θ coefficient", "is 1/4, not 0");
    }

    /// <summary>
    /// Heun's stages and one dense stage at c₃ = 1/2 (Y₃ = y + 3/8·hk₁ + 1/8·hk₂): b₁ = θ/2, b₂ = θ² − θ/2 and
    /// b₃ = θ − θ² end at B and have order 2, but only with stage 3 in the conditions (without it Σ bᵢ(θ) ≠ θ).
    /// </summary>
    private const string HeunWithDenseStage = """
                internal static readonly double[] C = [0, 1];
                internal static readonly double[][] A = [[], [1]];
                internal static readonly double[] B = [1.0 / 2, 1.0 / 2];
                internal static readonly double[] BHat = [1, 0];
                internal static readonly double[] CDense = [1.0 / 2];
                internal static readonly double[][] ADense = [[3.0 / 8, 1.0 / 8]];
                internal static readonly double[][] BTheta = [[1.0 / 2, 0], [-1.0 / 2, 1], [1, -1]];
            """;

    /// <summary>A dense stage enters the continuous order conditions with its node and row: the declaration above has
    /// order 2 (and emits the stage), and with the stage moved to c₃ = 1/4 the θ coefficient of Σ bᵢ(θ) cᵢ becomes −1/4.</summary>
    [Fact]
    public void RKG020_DenseStagesEnterTheConditions()
    {
        const string attribute = """[ButcherTableau("HeunDense", Order = 2, EmbeddedOrder = 1, DenseOrder = 2)]""";
        Assert.Empty(VerifyAll(Scheme(HeunWithDenseStage, attribute), ignore: []));
        var run = GeneratorHarness.Run(Scheme(HeunWithDenseStage, attribute));
        var text = string.Concat(run.GeneratedSources.Values);
        Assert.Empty(run.OutputDiagnostics.Where(static d => d.Severity == DiagnosticSeverity.Error));
        Assert.Contains("public override int DenseStages => 1;", text, StringComparison.Ordinal);
        Assert.Contains("var Y3 = Combine(y, h, s.ARow(3), k1, k2);", text, StringComparison.Ordinal);

        var moved = HeunWithDenseStage
            .Replace("CDense = [1.0 / 2]", "CDense = [1.0 / 4]", StringComparison.Ordinal)
            .Replace("[[3.0 / 8, 1.0 / 8]]", "[[1.0 / 8, 1.0 / 8]]", StringComparison.Ordinal);
        var diagnostic = Verify(Scheme(moved, """[ButcherTableau("HeunDense", Order = 2, EmbeddedOrder = 1, {|RKG020:DenseOrder = 2|})]"""));

        AssertMessage(diagnostic, "dense order 2", "[τ]", "the θ coefficient", "is -1/4, not 0");
    }

    [Fact]
    public void RKG016_DenseNodesWithoutRows()
    {
        const string members = """
                internal static readonly double[] C = [0, 1];
                internal static readonly double[][] A = [[], [1]];
                internal static readonly double[] B = [1.0 / 2, 1.0 / 2];
                internal static readonly double[] BHat = [1, 0];
                internal static readonly double[] CDense = {|RKG016:[1.0 / 2]|};
                internal static readonly double[][] BTheta = [[1.0 / 2, 0], [-1.0 / 2, 1], [1, -1]];
            """;

        var diagnostic = Verify(Scheme(members, """[ButcherTableau("HeunDense", Order = 2, EmbeddedOrder = 1, DenseOrder = 2)]"""));

        AssertMessage(diagnostic, "'CDense' is declared without 'ADense'");
    }

    [Fact]
    public void RKG016_DenseStageRowLength()
    {
        var members = HeunWithDenseStage.Replace("[[3.0 / 8, 1.0 / 8]]", "[{|RKG016:[1.0 / 2]|}]", StringComparison.Ordinal);

        var diagnostic = Verify(Scheme(members, """[ButcherTableau("HeunDense", Order = 2, EmbeddedOrder = 1, DenseOrder = 2)]"""));

        AssertMessage(diagnostic, "'ADense[0]' has 1 entries", "weights the 2 stages", "so it has 2");
    }

    [Fact]
    public void RKG016_DenseStageRowSum()
    {
        var members = HeunWithDenseStage.Replace("[[3.0 / 8, 1.0 / 8]]", "[{|RKG016:[3.0 / 8, 3.0 / 8]|}]", StringComparison.Ordinal);

        var diagnostic = Verify(Scheme(members, """[ButcherTableau("HeunDense", Order = 2, EmbeddedOrder = 1, DenseOrder = 2)]"""));

        AssertMessage(diagnostic, "ADense[0] sum to 3/4", "CDense[0] = 1/2");
    }

    [Fact]
    public void RKG016_DenseStagesNeedTheirBThetaRows()
    {
        var members = HeunWithDenseStage.Replace("[[1.0 / 2, 0], [-1.0 / 2, 1], [1, -1]]", "{|RKG016:[[1, -1.0 / 2], [0, 1.0 / 2]]|}", StringComparison.Ordinal);

        var diagnostic = Verify(Scheme(members, """[ButcherTableau("HeunDense", Order = 2, EmbeddedOrder = 1, DenseOrder = 2)]"""));

        AssertMessage(diagnostic, "'BTheta' has 2 rows", "2 stages and 1 dense stage");
    }

    [Fact]
    public void RKG016_DenseStageWeightDoesNotVanishAtOne()
    {
        var members = HeunWithDenseStage.Replace("[1, -1]]", "{|RKG016:[1, -1.0 / 2]|}]", StringComparison.Ordinal);

        var diagnostic = Verify(Scheme(members, """[ButcherTableau("HeunDense", Order = 2, EmbeddedOrder = 1, DenseOrder = 2)]"""));

        AssertMessage(diagnostic, "BTheta[2] sum to 1/2", "dense stage 1, must be 0");
    }

    [Theory]
    [InlineData("""[ButcherTableau("BS32Dense", Order = 3, EmbeddedOrder = 2, {|RKG015:DenseOrder = 4|})]""", "cannot exceed Order = 3")]
    [InlineData("""[ButcherTableau("BS32Dense", Order = 3, EmbeddedOrder = 2, {|RKG015:DenseOrder = 0|})]""", "between 1 and 8")]
    public void RKG015_InvalidDenseOrder(string attribute, string expected)
    {
        const string members = TestTableaux.BogackiShampineMembers + """

                internal static readonly double[][] BTheta = [[1, -4.0 / 3, 5.0 / 9], [0, 1, -2.0 / 3], [0, 4.0 / 3, -8.0 / 9], [0, -1, 1]];
            """;

        AssertMessage(Verify(Scheme(members, attribute)), expected);
    }

    [Fact]
    public void RKG015_DenseOrderWithoutBTheta()
    {
        var diagnostic = Verify(Scheme(TestTableaux.HeunEulerMembers, """[ButcherTableau("HeunEuler", Order = 2, EmbeddedOrder = 1, {|RKG015:DenseOrder = 2|})]"""));

        AssertMessage(diagnostic, "DenseOrder is set", "no BTheta");
    }

    /// <summary>
    /// One wrong entry of A breaks a row sum (RKG009) and, read through A, the order conditions too; only the row sum is
    /// reported, because the order conditions are checked only for tableaux whose row sums hold.
    /// </summary>
    [Fact]
    public void OneWrongEntryOfA_GivesOneDiagnostic()
    {
        const string members = """
                internal static readonly double[] C = [0, 1.0 / 2, 1.0 / 2, {|RKG009:1|}];
                internal static readonly double[][] A =
                [
                    [],
                    [1.0 / 2],
                    [0, 1.0 / 2],
                    [0, 0, 1.0 / 2],
                ];
                internal static readonly double[] B = [1.0 / 6, 1.0 / 3, 1.0 / 3, 1.0 / 6];
            """;

        var diagnostic = Assert.Single(VerifyAll(Scheme(members, """[ButcherTableau("RK4", Order = 4)]"""), ignore: ["RKG011"]));

        AssertMessage(diagnostic, "A[3]", "1/2", "1");
    }

    [Theory]
    [InlineData("Method")]
    [InlineData("Scheme")]
    public void RKG017_TypeNamedLikeAGeneratedMember(string typeName)
    {
        var diagnostic = Verify(Scheme(TestTableaux.HeunEulerMembers, declaration: $"public static partial class {{|RKG017:{typeName}|}}"));

        AssertMessage(diagnostic, $"'Consumer.{typeName}'", $"'{typeName}'", "rename the type");
    }

    [Fact]
    public void RKG017_MemberNamedScheme()
    {
        const string members = TestTableaux.HeunEulerMembers + """

                internal static string {|RKG017:Scheme|} => "mine";
            """;

        var diagnostic = Verify(Scheme(members));

        AssertMessage(diagnostic, "'Consumer.HeunEuler'", "'Scheme'", "already declares");
    }

    /// <summary>The clashing member may be in another part of the type; it is reported where it is declared.</summary>
    [Fact]
    public void RKG017_MemberNamedMethod_InAnotherPart()
    {
        var source = Scheme(TestTableaux.HeunEulerMembers) + """

            public static partial class HeunEuler
            {
                internal static void {|RKG017:Method|}()
                {
                }
            }
            """;

        var diagnostic = Verify(source);

        AssertMessage(diagnostic, "'Method'", "already declares");
    }

    [Fact]
    public void RKG017_BothNamesTaken_ReportsEach() =>
        VerifyAll(
            Scheme(TestTableaux.HeunEulerMembers + "\n    internal static int {|RKG017:Scheme|};", declaration: "public static partial class {|RKG017:Method|}"),
            ignore: []);

    [Fact]
    public void RKG018_PrivateNested()
    {
        var diagnostic = Verify(Wrapped("public static partial class Outer", "private static partial class {|RKG018:Inner|}"));

        Assert.Equal(DiagnosticSeverity.Warning, diagnostic.Severity);
        AssertMessage(diagnostic, "'HeunEuler'", "not registered", "'Consumer.Outer.Inner'", "private", "internal or public");
    }

    [Theory]
    [InlineData("protected")]
    [InlineData("private protected")]
    public void RKG018_ProtectedNested(string accessibility)
    {
        var diagnostic = Verify(Wrapped("public partial class Outer", $"{accessibility} static partial class {{|RKG018:Inner|}}"));

        AssertMessage(diagnostic, "'Consumer.Outer.Inner'", accessibility);
    }

    /// <summary>An internal tableau inside a private type is just as unreachable; the message names the private one.</summary>
    [Fact]
    public void RKG018_PrivateContainingType()
    {
        var source = Wrapped(
            "public static partial class Outer",
            "internal static partial class {|RKG018:Inner|}",
            middle: "private static partial class Middle");

        var diagnostic = Verify(source);

        AssertMessage(diagnostic, "'Consumer.Outer.Middle'", "a containing type", "private");
    }

    /// <summary>The warning does not stop generation: the scheme works through its Scheme property, only not by name.</summary>
    [Fact]
    public void RKG018_TypeIsGenerated_ButNotRegistered()
    {
        var (source, _) = Markup.Parse(Wrapped("public static partial class Outer", "private static partial class Inner"));
        var registered = TestTableaux.HeunEulerFileScoped.Replace("\"HeunEuler\"", "\"Registered\"", StringComparison.Ordinal);

        var run = GeneratorHarness.Run(new SourceFile("Private.cs", source), new SourceFile("Registered.cs", registered));

        Assert.Contains("Consumer.Outer.Inner.g.cs", run.GeneratedSources.Keys);
        var registry = run.GeneratedSources["ButcherTableauRegistry.g.cs"];
        Assert.DoesNotContain("Outer.Inner", registry, StringComparison.Ordinal);
        Assert.Contains("Consumer.Schemes.HeunEuler.Method.Instance", registry, StringComparison.Ordinal);
    }

    [Fact]
    public void RKG018_ProtectedInternal_IsRegistered() =>
        VerifyAll(Wrapped("public partial class Outer", "protected internal static partial class Inner"), ignore: []);

    /// <summary>Heun's method with BHat = B: both weights have order 2, and every error estimate is zero.</summary>
    [Fact]
    public void RKG019_EmbeddedWeightsEqualWeights()
    {
        const string members = """
                internal static readonly double[] C = [0, 1];
                internal static readonly double[][] A = [[], [1]];
                internal static readonly double[] B = [1.0 / 2, 1.0 / 2];
                internal static readonly double[] {|RKG019:BHat|} = [0.5, 2.0 / 4];
            """;

        var markup = Scheme(members, """[ButcherTableau("HeunEuler", Order = 2, EmbeddedOrder = 2)]""");

        var diagnostic = Verify(markup);

        Assert.Equal(DiagnosticSeverity.Warning, diagnostic.Severity);
        AssertMessage(diagnostic, "'HeunEuler'", "BHat", "B", "zero", "accepts every step");
        // A warning: the scheme is still generated, with its (zero) error estimate.
        var run = GeneratorHarness.Run(Markup.Parse(markup).Source);
        Assert.Contains("zeros_like(y)", run.GeneratedSources["Consumer.HeunEuler.g.cs"], StringComparison.Ordinal);
    }

    /// <summary>Only exact equality counts: weights that differ in one entry, however little, give a real estimate.</summary>
    [Fact]
    public void RKG019_NotReportedWhenOneWeightDiffers()
    {
        const string members = """
                internal static readonly double[] C = [0, 1];
                internal static readonly double[][] A = [[], [1]];
                internal static readonly double[] B = [1.0 / 2, 1.0 / 2];
                internal static readonly double[] BHat = [1, 0];
            """;

        VerifyAll(Scheme(members, """[ButcherTableau("HeunEuler", Order = 2, EmbeddedOrder = 1)]"""), ignore: []);
    }

    private static string Wrapped(string outer, string declaration, string? middle = null)
    {
        var body = Scheme(TestTableaux.HeunEulerMembers, declaration: declaration, withHeader: false);
        if (middle is not null)
        {
            body = $"{middle}\n{{\n{body}}}\n";
        }

        return $"using System;\nusing NeuralOde;\n\nnamespace Consumer;\n\n{outer}\n{{\n{body}}}\n";
    }

    private static string Scheme(string members, string attribute = HeunEulerAttribute, string declaration = HeunEulerClass, bool withHeader = true) =>
        (withHeader ? "using System;\nusing NeuralOde;\n\nnamespace Consumer;\n\n" : "") + $$"""
        {{attribute}}
        {{declaration}}
        {
        {{members}}
        }

        """;

    /// <summary>Runs the generator on marked-up source with one marked span; checks that it is the only RKG diagnostic.</summary>
    /// <returns>The diagnostic.</returns>
    private static Diagnostic Verify(string markup) => Assert.Single(VerifyAll(markup, ignore: []));

    private static IReadOnlyList<Diagnostic> VerifyAll(string markup, string[] ignore)
    {
        var (source, expected) = Markup.Parse(markup);
        var run = GeneratorHarness.Run(source);
        run.AssertGeneratorDidNotThrow();
        var text = run.InputCompilation.SyntaxTrees.Single().GetText();

        var actual = run.GeneratorDiagnostics
            .Where(d => d.Id.StartsWith("RKG", StringComparison.Ordinal) && !ignore.Contains(d.Id))
            .OrderBy(static d => d.Location.SourceSpan.Start)
            .ToList();
        var expectedLines = expected.Select(e => $"{e.Id} at {Markup.Describe(text, e.Span)}").Order(StringComparer.Ordinal);
        var actualLines = actual.Select(Markup.Describe).Order(StringComparer.Ordinal);
        Assert.True(
            expectedLines.SequenceEqual(actualLines),
            $"Expected:\n  {string.Join("\n  ", expectedLines)}\nActual:\n  {string.Join("\n  ", actual.Select(GeneratorHarness.Format))}\nSource:\n{source}");

        foreach (var diagnostic in actual)
        {
            Assert.Equal(ExpectedSeverity(diagnostic.Id), diagnostic.Severity);
            Assert.False(string.IsNullOrEmpty(diagnostic.Descriptor.HelpLinkUri), $"{diagnostic.Id} has no help link.");
        }

        AssertGeneratedCodeAddsNoErrors(run);
        return actual;
    }

    private static DiagnosticSeverity ExpectedSeverity(string id) => id switch
    {
        "RKG011" => DiagnosticSeverity.Info,
        "RKG018" or "RKG019" => DiagnosticSeverity.Warning,
        _ => DiagnosticSeverity.Error,
    };

    // A declaration the generator rejects must not also get generated code that fails to compile.
    private static void AssertGeneratedCodeAddsNoErrors(GeneratorRun run)
    {
        var before = run.InputCompilation.GetDiagnostics()
            .Where(static d => d.Severity == DiagnosticSeverity.Error)
            .Select(GeneratorHarness.Format)
            .ToHashSet(StringComparer.Ordinal);
        var added = run.OutputDiagnostics
            .Where(static d => d.Severity == DiagnosticSeverity.Error)
            .Select(GeneratorHarness.Format)
            .Where(line => !before.Contains(line))
            .ToList();
        Assert.True(added.Count == 0, "The generated code adds errors:\n" + string.Join("\n", added));
    }

    private static void AssertMessage(Diagnostic diagnostic, params string[] parts)
    {
        var message = diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture);
        foreach (var part in parts)
        {
            Assert.True(message.Contains(part, StringComparison.Ordinal), $"The {diagnostic.Id} message lacks '{part}': {message}");
        }
    }
}
