using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using NeuralOde.Generators.Tests.Infrastructure;
using Xunit;

namespace NeuralOde.Generators.Tests;

/// <summary>
/// The generated code creates no TorchSharp <c>Scalar</c> behind the reader's back (research/torchsharp.md, pitfall 4):
/// every such native scalar is freed only by the finalizer, so one per step call leaks steadily. Bound in the output
/// compilation, the generated trees may not convert a number to <c>Scalar</c> implicitly, leave an optional
/// <c>Scalar</c> parameter to its default, or call <c>Tensor.add(t)</c>/<c>sub(t)</c> (and their in-place forms)
/// without <c>alpha</c>, which pass a hidden <c>Scalar(1)</c>. The coefficients' cached scalars are the only ones.
/// </summary>
public sealed class NoImplicitScalarsTests
{
    [Fact]
    public void EveryBuiltIn() =>
        AssertNoImplicitScalars(GeneratorHarness.Run(RepoPaths.BuiltInTableauNames.Select(RepoPaths.ReadBuiltInTableauCopy)));

    public static TheoryData<string> EdgeCases => [.. TestTableaux.EdgeCases.Keys];

    [Theory]
    [MemberData(nameof(EdgeCases))]
    public void EdgeCase(string name) => AssertNoImplicitScalars(GeneratorHarness.Run(TestTableaux.EdgeCases[name]));

    /// <summary>The check finds each kind of hidden scalar in hand-written code; otherwise the tests above prove little.</summary>
    [Fact]
    public void Check_FindsEveryKindOfHiddenScalar()
    {
        const string source = """
            using TorchSharp;
            using static TorchSharp.torch;

            namespace Consumer;

            internal static class Hidden
            {
                internal static Tensor Sum(Tensor x, Tensor y) => x.add(y);
                internal static Tensor Difference(Tensor x, Tensor y) => x.sub_(y);
                internal static Tensor Scaled(Tensor x, Tensor y) => x.add(y, 0.5);
                internal static Tensor Doubled(Tensor x) => x.mul(2.0);
                internal static Tensor Explicit(Tensor x, Tensor y, Scalar alpha) => x.add(y, alpha);
            }
            """;
        var compilation = GeneratorHarness.CreateCompilation(new SourceFile("Hidden.cs", source));

        var found = HiddenScalars(compilation, compilation.SyntaxTrees);

        Assert.Equal(4, found.Count);
        Assert.Contains(found, static f => f.Contains("x.add(y)", StringComparison.Ordinal));
        Assert.Contains(found, static f => f.Contains("x.sub_(y)", StringComparison.Ordinal));
        Assert.Contains(found, static f => f.Contains("'0.5'", StringComparison.Ordinal));
        Assert.Contains(found, static f => f.Contains("'2.0'", StringComparison.Ordinal));
    }

    private static void AssertNoImplicitScalars(GeneratorRun run)
    {
        run.AssertGeneratorDidNotThrow();
        var generated = run.OutputCompilation.SyntaxTrees.Except(run.InputCompilation.SyntaxTrees).ToList();
        Assert.NotEmpty(generated);

        var found = HiddenScalars(run.OutputCompilation, generated);

        Assert.True(found.Count == 0, "The generated code creates hidden scalars:\n" + string.Join("\n", found));
    }

    private static List<string> HiddenScalars(Compilation compilation, IEnumerable<SyntaxTree> trees)
    {
        var scalar = compilation.GetTypeByMetadataName("TorchSharp.Scalar") ?? throw new InvalidOperationException("TorchSharp.Scalar not found.");
        var tensor = compilation.GetTypeByMetadataName("TorchSharp.torch+Tensor") ?? throw new InvalidOperationException("Tensor not found.");
        var found = new List<string>();
        foreach (var tree in trees)
        {
            var model = compilation.GetSemanticModel(tree);
            foreach (var node in tree.GetRoot().DescendantNodes())
            {
                string Where() => $"{Path.GetFileName(tree.FilePath)}({node.GetLocation().GetLineSpan().StartLinePosition.Line + 1})";

                if (node is ExpressionSyntax expression
                    && model.GetConversion(expression) is { IsUserDefined: true, MethodSymbol: { } conversion }
                    && SymbolEqualityComparer.Default.Equals(conversion.ReturnType, scalar))
                {
                    found.Add($"{Where()}: '{expression}' is converted to Scalar implicitly");
                }

                if (node is InvocationExpressionSyntax invocation && model.GetSymbolInfo(invocation).Symbol is IMethodSymbol method)
                {
                    var passed = invocation.ArgumentList.Arguments.Count;
                    if (method.Parameters.Skip(passed).Any(p => SymbolEqualityComparer.Default.Equals(p.Type, scalar)))
                    {
                        found.Add($"{Where()}: '{invocation}' leaves a Scalar parameter to its default");
                    }

                    if (SymbolEqualityComparer.Default.Equals(method.ContainingType, tensor)
                        && method.Name is "add" or "add_" or "sub" or "sub_"
                        && method.Parameters is [{ Type: var only }]
                        && SymbolEqualityComparer.Default.Equals(only, tensor))
                    {
                        found.Add($"{Where()}: '{invocation}' passes a hidden Scalar(1) as alpha");
                    }
                }
            }
        }

        return found;
    }
}
