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
