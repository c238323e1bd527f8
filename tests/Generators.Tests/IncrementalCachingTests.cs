using System.Collections;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using NeuralOde.Generators.Tests.Infrastructure;
using Xunit;

namespace NeuralOde.Generators.Tests;

/// <summary>
/// The pipeline caches: an unrelated edit leaves every tracked step Cached or Unchanged and every output Cached; a
/// coefficient edit modifies the Spec step. The Spec models hold no Roslyn objects.
/// </summary>
public sealed class IncrementalCachingTests
{
    private static readonly string[] TrackedSteps = [TrackingNames.Parse, TrackingNames.Spec, TrackingNames.Registry];

    [Fact]
    public void UnrelatedNewFile_EverythingCached()
    {
        var first = GeneratorHarness.Run(Sources());
        var edited = first.InputCompilation.AddSyntaxTrees(
            GeneratorHarness.Parse(new SourceFile("Unrelated.cs", "namespace Consumer; internal static class Unrelated { internal const int X = 1; }")));

        var second = GeneratorHarness.Run(edited, first.Driver);

        AssertCached(second.Result);
        Assert.Equal(first.GeneratedSources, second.GeneratedSources);
    }

    [Fact]
    public void UnrelatedEditInAnotherFile_EverythingCached()
    {
        var first = GeneratorHarness.Run([.. Sources(), new SourceFile("Unrelated.cs", "namespace Consumer; internal static class Unrelated { internal const int X = 1; }")]);
        var old = first.InputCompilation.SyntaxTrees.Single(static t => t.FilePath == "Unrelated.cs");
        var edited = first.InputCompilation.ReplaceSyntaxTree(
            old,
            GeneratorHarness.Parse(new SourceFile("Unrelated.cs", "namespace Consumer; internal static class Unrelated { internal const int X = 2; internal const int Y = 3; }")));

        var second = GeneratorHarness.Run(edited, first.Driver);

        AssertCached(second.Result);
    }

    [Fact]
    public void WhitespaceEditInTheTableauFile_OutputsCached()
    {
        var first = GeneratorHarness.Run(Sources());
        var old = first.InputCompilation.SyntaxTrees.Single(static t => t.FilePath == "HeunEuler.cs");
        var edited = first.InputCompilation.ReplaceSyntaxTree(
            old,
            GeneratorHarness.Parse(new SourceFile("HeunEuler.cs", "// A comment that moves every line down.\n\n" + TestTableaux.HeunEulerFileScoped)));

        var second = GeneratorHarness.Run(edited, first.Driver);

        // The Parse step reruns (the tree changed) and carries locations for its diagnostics; the Spec it yields
        // is equal, so the Spec step and everything after it is cached.
        Assert.All(Steps(second.Result, TrackingNames.Spec), static r => Assert.True(r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, r.ToString()));
        Assert.All(OutputReasons(second.Result), static r => Assert.Equal(IncrementalStepRunReason.Cached, r));
    }

    [Fact]
    public void CoefficientEdit_ModifiesTheSpecAndItsOutput()
    {
        var first = GeneratorHarness.Run(Sources());
        var old = first.InputCompilation.SyntaxTrees.Single(static t => t.FilePath == "HeunEuler.cs");
        var changed = TestTableaux.HeunEulerFileScoped.Replace("BHat = [1, 0]", "BHat = [0, 1]", StringComparison.Ordinal);
        Assert.NotEqual(TestTableaux.HeunEulerFileScoped, changed);

        var second = GeneratorHarness.Run(first.InputCompilation.ReplaceSyntaxTree(old, GeneratorHarness.Parse(new SourceFile("HeunEuler.cs", changed))), first.Driver);

        Assert.Contains(IncrementalStepRunReason.Modified, Steps(second.Result, TrackingNames.Spec));
        Assert.Contains(IncrementalStepRunReason.Modified, OutputReasons(second.Result));
        Assert.NotEqual(first.GeneratedSources["Consumer.Schemes.HeunEuler.g.cs"], second.GeneratedSources["Consumer.Schemes.HeunEuler.g.cs"]);
    }

    [Fact]
    public void CoefficientEditInOneFile_LeavesTheOtherSchemesAlone()
    {
        var first = GeneratorHarness.Run(Sources());
        var old = first.InputCompilation.SyntaxTrees.Single(static t => t.FilePath == "BS32.cs");
        var changed = TestTableaux.BogackiShampine.Replace("BHat = [7.0 / 24, 1.0 / 4, 1.0 / 3, 1.0 / 8]", "BHat = [1.0 / 3, 0, 2.0 / 3, 0]", StringComparison.Ordinal);
        Assert.NotEqual(TestTableaux.BogackiShampine, changed);

        var second = GeneratorHarness.Run(first.InputCompilation.ReplaceSyntaxTree(old, GeneratorHarness.Parse(new SourceFile("BS32.cs", changed))), first.Driver);

        Assert.Contains(IncrementalStepRunReason.Modified, Steps(second.Result, TrackingNames.Spec));
        Assert.NotEqual(first.GeneratedSources["Consumer.Schemes.BogackiShampine32.g.cs"], second.GeneratedSources["Consumer.Schemes.BogackiShampine32.g.cs"]);
        Assert.Equal(first.GeneratedSources["Consumer.Schemes.HeunEuler.g.cs"], second.GeneratedSources["Consumer.Schemes.HeunEuler.g.cs"]);
    }

    [Fact]
    public void SpecModels_HoldNoRoslynObjects()
    {
        var run = GeneratorHarness.Run(Sources());
        var values = run.Result.TrackedSteps[TrackingNames.Spec]
            .SelectMany(static step => step.Outputs)
            .Select(static output => output.Value)
            .ToList();

        Assert.NotEmpty(values);
        foreach (var value in values)
        {
            AssertNoRoslynObjects(value, value.GetType().Name, new HashSet<object>(ReferenceEqualityComparer.Instance));
        }
    }

    [Fact]
    public void TrackedStepsExist()
    {
        var run = GeneratorHarness.Run(Sources());

        foreach (var name in TrackedSteps)
        {
            Assert.True(run.Result.TrackedSteps.ContainsKey(name), $"No step is tracked as '{name}'.");
        }
    }

    private static IEnumerable<SourceFile> Sources() =>
    [
        new SourceFile("HeunEuler.cs", TestTableaux.HeunEulerFileScoped),
        new SourceFile("BS32.cs", TestTableaux.BogackiShampine),
        new SourceFile("Rk4.cs", TestTableaux.ClassicRk4),
    ];

    private static void AssertCached(GeneratorRunResult result)
    {
        foreach (var name in TrackedSteps)
        {
            var reasons = Steps(result, name);
            Assert.NotEmpty(reasons);
            Assert.All(reasons, r => Assert.True(r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"{name}: {r}"));
        }

        var outputs = OutputReasons(result);
        Assert.NotEmpty(outputs);
        Assert.All(outputs, static r => Assert.Equal(IncrementalStepRunReason.Cached, r));
    }

    private static List<IncrementalStepRunReason> Steps(GeneratorRunResult result, string name) =>
        result.TrackedSteps.TryGetValue(name, out var steps)
            ? [.. steps.SelectMany(static s => s.Outputs).Select(static o => o.Reason)]
            : [];

    private static List<IncrementalStepRunReason> OutputReasons(GeneratorRunResult result) =>
        [.. result.TrackedOutputSteps.SelectMany(static kv => kv.Value).SelectMany(static s => s.Outputs).Select(static o => o.Reason)];

    private static readonly Type[] Forbidden =
        [typeof(ISymbol), typeof(SyntaxNode), typeof(SyntaxTree), typeof(Compilation), typeof(SemanticModel), typeof(Location), typeof(SyntaxToken), typeof(AttributeData), typeof(Diagnostic)];

    private static void AssertNoRoslynObjects(object? value, string path, HashSet<object> seen)
    {
        if (value is null || value is string || value.GetType().IsPrimitive || value is decimal or Enum)
        {
            return;
        }

        var type = value.GetType();
        var bad = Forbidden.FirstOrDefault(f => f.IsAssignableFrom(type));
        Assert.True(bad is null, $"{path} holds a {type.FullName} ({bad?.Name}): a Spec must hold only values.");
        Assert.False(type.Assembly == typeof(SyntaxNode).Assembly || type.Assembly == typeof(CSharpSyntaxNode).Assembly,
            $"{path} holds {type.FullName}, a Roslyn type.");

        if (!type.IsValueType && !seen.Add(value))
        {
            return;
        }

        if (value is IEnumerable sequence and not IDictionary)
        {
            var i = 0;
            foreach (var item in sequence)
            {
                AssertNoRoslynObjects(item, $"{path}[{i++}]", seen);
            }
        }

        for (var t = type; t is not null && t != typeof(object); t = t.BaseType)
        {
            foreach (var field in t.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                AssertNoRoslynObjects(field.GetValue(value), $"{path}.{field.Name}", seen);
            }
        }
    }
}
