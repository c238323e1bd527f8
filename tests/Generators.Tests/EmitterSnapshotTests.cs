using NeuralOde.Generators.Tests.Infrastructure;
using Xunit;

namespace NeuralOde.Generators.Tests;

/// <summary>
/// Snapshots of the generated code: one per built-in scheme (the real declarations in src/Runtime/Tableaux) and one
/// per edge case. Accept changes with <c>UPDATE_SNAPSHOTS=1</c>, after reading the <c>*.received.*</c> files.
/// </summary>
public sealed partial class EmitterSnapshotTests
{
    public static TheoryData<string> BuiltInTableaux => [.. RepoPaths.BuiltInTableauNames];

    [Theory]
    [MemberData(nameof(BuiltInTableaux))]
    public void BuiltIn(string scheme) =>
        Snapshot.Verify(GeneratorHarness.Run(RepoPaths.ReadBuiltInTableau(scheme)), $"scheme={scheme}");

    [Fact]
    public void BuiltInSnapshots_CoverExactlyTheBuiltInTableaux()
    {
        const string prefix = $"{nameof(EmitterSnapshotTests)}.{nameof(BuiltIn)}_scheme=";
        var snapshotted = Directory.EnumerateFiles(SnapshotDirectory(), prefix + "*.verified.*")
            .Select(static path => Path.GetFileName(path)[prefix.Length..])
            .Select(static rest => rest[..rest.IndexOfAny(['#', '.'])])
            .Distinct()
            .Order(StringComparer.Ordinal);

        Assert.Equal(RepoPaths.BuiltInTableauNames, snapshotted);
    }

    [Fact]
    public void ZeroCoefficientsSkipped()
    {
        var run = GeneratorHarness.Run(TestTableaux.Heun3WithZeros);

        Snapshot.Verify(run);
        var source = run.GeneratedSources["Consumer.Schemes.Heun32.g.cs"];
        // a31 = 0 and b2 = 0: the combinations name only the stages with a nonzero weight (ARow and BRow skip the
        // same zeros).
        Assert.Contains("var Y3 = Combine(y, h, s.ARow(3), k2);", source, StringComparison.Ordinal);
        Assert.Contains("var y1 = Combine(y, h, s.BRow(), k1, k3);", source, StringComparison.Ordinal);
    }

    [Fact]
    public void Fsal()
    {
        var run = GeneratorHarness.Run(TestTableaux.BogackiShampine);

        Snapshot.Verify(run);
        var source = run.GeneratedSources["Consumer.Schemes.BogackiShampine32.g.cs"];
        Assert.Contains("IsFsal => true", source, StringComparison.Ordinal);
        Assert.DoesNotContain("endSlope: null", source, StringComparison.Ordinal);
    }

    [Fact]
    public void NestedType() => Snapshot.Verify(GeneratorHarness.Run(TestTableaux.HeunEulerNested));

    [Fact]
    public void GlobalNamespace() => Snapshot.Verify(GeneratorHarness.Run(TestTableaux.HeunEulerGlobalNamespace));

    [Fact]
    public void FileScopedNamespace() => Snapshot.Verify(GeneratorHarness.Run(TestTableaux.HeunEulerFileScoped));

    [Fact]
    public void BlockNamespace() => Snapshot.Verify(GeneratorHarness.Run(TestTableaux.HeunEulerBlockNamespace));

    [Fact]
    public void FileScopedAndBlockNamespaces_GenerateTheSameCode()
    {
        var fileScoped = GeneratorHarness.Run(TestTableaux.HeunEulerFileScoped).GeneratedSources;
        var block = GeneratorHarness.Run(TestTableaux.HeunEulerBlockNamespace).GeneratedSources;

        Assert.Equal(fileScoped, block);
    }

    [Fact]
    public void NoBHat()
    {
        var run = GeneratorHarness.Run(TestTableaux.ClassicRk4);

        Snapshot.Verify(run);
        Assert.Contains(run.GeneratorDiagnostics, static d => d.Id == "RKG011");
    }

    [Fact]
    public void DenseOutput()
    {
        var run = GeneratorHarness.Run(TestTableaux.BogackiShampineDense);

        Snapshot.Verify(run);
        var source = run.GeneratedSources["Consumer.Schemes.BogackiShampineDense.g.cs"];
        Assert.Contains("HasDenseOutput => true", source, StringComparison.Ordinal);
        Assert.Contains("Interpolate(", source, StringComparison.Ordinal);

        // b₁(θ) = θ − 4/3 θ² + 5/9 θ³ starts from θ itself, out of place (th is only read), and needs no s.D(1, 1);
        // each weight takes the step h in place (the slopes are not scaled).
        Assert.Contains("var b1 = th.add(th2, s.D(1, 2)).add_(th3, s.D(1, 3)).mul_(h);", source, StringComparison.Ordinal);
        Assert.Contains("var b4 = th2.neg().add_(th3, s.D(4, 3)).mul_(h);", source, StringComparison.Ordinal);
        Assert.DoesNotContain("s.D(1, 1)", source, StringComparison.Ordinal);
    }

    /// <summary>
    /// Each coefficient is stated once, in the tableau metadata: its value, and its fraction where the declaration is
    /// exact rational arithmetic on literals (an expression over a named constant, or a decimal, is not).
    /// </summary>
    [Fact]
    public void Coefficients_AreStatedOnceInTheMetadata()
    {
        const string source = """
            using NeuralOde;

            namespace Consumer;

            /// <summary>Ralston's method with decimals.</summary>
            [ButcherTableau("Decimals", Order = 2, EmbeddedOrder = 1)]
            public static partial class Decimals
            {
                private const double Third = 1.0 / 3;
                internal static readonly double[] C = [0, 2 * Third];
                internal static readonly double[][] A = [[], [0.6666666666666666]];
                internal static readonly double[] B = [0.25, 0.750];
                internal static readonly double[] BHat = [1, 0];
            }
            """;

        var generated = GeneratorHarness.Run(source).GeneratedSources["Consumer.Decimals.g.cs"];
        var lines = generated.Split('\n').Select(static l => l.Trim()).ToList();

        Assert.Contains("c: [new(0, \"0\"), new(0.6666666666666666, null)],", lines);
        Assert.Contains("b: [new(0.25, null), new(0.75, null)],", lines);
        Assert.Contains("bHat: [new(1, \"1\"), new(0, \"0\")],", lines);
        Assert.DoesNotContain("const double", generated, StringComparison.Ordinal);
        Assert.Equal(1, Occurrences(generated, "0.25"));
    }

    /// <summary>The one snapshot of the registry: every built-in together (the other snapshots leave the registry out).</summary>
    [Fact]
    public void EveryBuiltInTogether_OneRegistryListsThemAll()
    {
        var names = RepoPaths.BuiltInTableauNames;
        var run = GeneratorHarness.Run(names.Select(RepoPaths.ReadBuiltInTableau));

        run.AssertGeneratorDidNotThrow();
        var registry = Snapshot.Render(run).Where(static p => p.Key == $"#{Snapshot.RegistryHintName[..^3]}.verified.cs").ToDictionary();
        Snapshot.VerifyFiles(
            SnapshotDirectory(), $"{nameof(EmitterSnapshotTests)}.{nameof(EveryBuiltInTogether_OneRegistryListsThemAll)}", registry, Snapshot.Updating, ci: false);
        Assert.Equal(names.Count + 1, run.Result.GeneratedSources.Length);
        Assert.Contains("ButcherTableauRegistry.g.cs", run.GeneratedSources.Keys);
        var source = run.GeneratedSources["ButcherTableauRegistry.g.cs"];
        foreach (var name in names)
        {
            Assert.Contains($".{name}.Method", source, StringComparison.Ordinal);
        }
    }

    /// <summary>
    /// Every metadata entry with an exact fraction has the double nearest that fraction (within an ulp or two: a
    /// coefficient declared as a product, such as <c>2 * (1.0 / 3)</c>, keeps the folded double), printed so that it
    /// parses back to itself.
    /// </summary>
    [Theory]
    [MemberData(nameof(BuiltInTableaux))]
    public void EmittedCoefficients_MatchTheirExactFractions(string scheme)
    {
        var run = GeneratorHarness.Run(RepoPaths.ReadBuiltInTableau(scheme));
        var source = Assert.Single(run.GeneratedSources, static p => p.Key != "ButcherTableauRegistry.g.cs").Value;

        var coefficients = CoefficientWithFraction().Matches(source);
        Assert.NotEmpty(coefficients);
        foreach (System.Text.RegularExpressions.Match coefficient in coefficients)
        {
            var text = coefficient.Groups["value"].Value;
            var value = double.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
            var numerator = System.Numerics.BigInteger.Parse(coefficient.Groups["p"].Value, System.Globalization.CultureInfo.InvariantCulture);
            var denominator = coefficient.Groups["q"].Success
                ? System.Numerics.BigInteger.Parse(coefficient.Groups["q"].Value, System.Globalization.CultureInfo.InvariantCulture)
                : System.Numerics.BigInteger.One;
            var exact = (double)numerator / (double)denominator;
            var ulp = Math.BitIncrement(Math.Abs(exact)) - Math.Abs(exact);

            Assert.True(Math.Abs(value - exact) <= 2 * ulp, $"{text} is not {numerator}/{denominator} = {exact:R}.");
            Assert.Equal(text, value.ToString("R", System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    /// <summary>
    /// The arithmetic reads like hand-written code: no coefficient constants beside the metadata, and every line of the
    /// step and the dense output (stage states, slopes, weights, the returned stages) and of the metadata fits in 120
    /// characters, indentation included.
    /// </summary>
    [Theory]
    [MemberData(nameof(BuiltInTableaux))]
    public void GeneratedArithmetic_StatesNoConstantAndHasShortLines(string scheme)
    {
        var run = GeneratorHarness.Run(RepoPaths.ReadBuiltInTableau(scheme));
        var source = Assert.Single(run.GeneratedSources, static p => p.Key != "ButcherTableauRegistry.g.cs").Value;

        Assert.DoesNotContain("const double", source, StringComparison.Ordinal);
        string[] markers = ["s.A(", "s.B(", "s.E(", "s.D(", "StepScale(", "Combine(", "ErrorEstimate(", "MoveToOuterDisposeScope", "addcmul", "new(0", "new(1", "new(-"];
        var tooLong = source.Split('\n').Where(line => markers.Any(m => line.Contains(m, StringComparison.Ordinal)) && line.Length > 120).ToList();
        Assert.True(tooLong.Count == 0, $"{scheme}: lines over 120 characters:\n{string.Join("\n", tooLong)}");
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"new\((?<value>-?[0-9.E+-]+), ""(?<p>-?\d+)(?:/(?<q>\d+))?""\)")]
    private static partial System.Text.RegularExpressions.Regex CoefficientWithFraction();

    private static int Occurrences(string text, string value) =>
        (text.Length - text.Replace(value, string.Empty, StringComparison.Ordinal).Length) / value.Length;

    private static string SnapshotDirectory([System.Runtime.CompilerServices.CallerFilePath] string file = "") =>
        Path.Combine(Path.GetDirectoryName(file)!, "Snapshots");
}
