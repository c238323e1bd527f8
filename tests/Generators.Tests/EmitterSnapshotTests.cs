using NeuralOde.Generators.Tests.Infrastructure;
using Xunit;

namespace NeuralOde.Generators.Tests;

/// <summary>
/// Snapshots of the generated code: one per built-in scheme (the real declarations in src/Runtime/Tableaux) and one
/// per edge case. Accept changes with <c>UPDATE_SNAPSHOTS=1</c>, after reading the <c>*.received.*</c> files.
/// </summary>
public sealed class EmitterSnapshotTests
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
        Assert.DoesNotContain("A3_1 =", source, StringComparison.Ordinal);
        Assert.DoesNotContain("B2 =", source, StringComparison.Ordinal);
        Assert.Contains("A3_2 =", source, StringComparison.Ordinal);
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
    }

    [Fact]
    public void EveryBuiltInTogether_OneRegistryListsThemAll()
    {
        var names = RepoPaths.BuiltInTableauNames;
        var run = GeneratorHarness.Run(names.Select(RepoPaths.ReadBuiltInTableau));

        run.AssertGeneratorDidNotThrow();
        Assert.Equal(names.Count + 1, run.Result.GeneratedSources.Length);
        Assert.Contains("ButcherTableauRegistry.g.cs", run.GeneratedSources.Keys);
        var registry = run.GeneratedSources["ButcherTableauRegistry.g.cs"];
        foreach (var name in names)
        {
            Assert.Contains($".{name}.Method", registry, StringComparison.Ordinal);
        }
    }

    private static string SnapshotDirectory([System.Runtime.CompilerServices.CallerFilePath] string file = "") =>
        Path.Combine(Path.GetDirectoryName(file)!, "Snapshots");
}
