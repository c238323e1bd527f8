using System.Collections.Immutable;
using Basic.Reference.Assemblies;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace NeuralOde.Generators.Tests.Infrastructure;

/// <summary>One input file of a test compilation.</summary>
/// <param name="Path">The path reported in diagnostics, for example <c>Test.cs</c>.</param>
/// <param name="Text">The C# source.</param>
public sealed record SourceFile(string Path, string Text);

/// <summary>What one run of <see cref="ButcherTableauGenerator"/> produced.</summary>
public sealed class GeneratorRun
{
    private readonly Lazy<ImmutableArray<Diagnostic>> outputDiagnostics;

    internal GeneratorRun(GeneratorDriver driver, CSharpCompilation input, Compilation output, ImmutableArray<Diagnostic> generatorDiagnostics)
    {
        Driver = driver;
        InputCompilation = input;
        OutputCompilation = output;
        GeneratorDiagnostics = generatorDiagnostics;
        RunResult = driver.GetRunResult();
        outputDiagnostics = new(() => output.GetDiagnostics());
    }

    /// <summary>Gets the driver after the run; run it again to test incrementality.</summary>
    public GeneratorDriver Driver { get; }

    /// <summary>Gets the driver's run result: generated sources, diagnostics, tracked steps, exceptions.</summary>
    public GeneratorDriverRunResult RunResult { get; }

    /// <summary>Gets the result for the one generator.</summary>
    public GeneratorRunResult Result => RunResult.Results.Single();

    /// <summary>Gets the compilation the generator ran on.</summary>
    public CSharpCompilation InputCompilation { get; }

    /// <summary>Gets the input compilation plus the generated sources.</summary>
    public Compilation OutputCompilation { get; }

    /// <summary>Gets the diagnostics the driver returned (the generator's own, after <c>#pragma</c> and option filtering).</summary>
    public ImmutableArray<Diagnostic> GeneratorDiagnostics { get; }

    /// <summary>Gets the output compilation's diagnostics (computed on first use: it binds every method body).</summary>
    public ImmutableArray<Diagnostic> OutputDiagnostics => outputDiagnostics.Value;

    /// <summary>Gets the generated sources by hint name.</summary>
    public IReadOnlyDictionary<string, string> GeneratedSources =>
        Result.GeneratedSources.ToDictionary(static s => s.HintName, static s => s.SourceText.ToString(), StringComparer.Ordinal);
}

/// <summary>
/// Builds compilations against the .NET 10 reference assemblies, the NeuralOde runtime and TorchSharp, and runs the
/// generator on them with step tracking on.
/// </summary>
public static class GeneratorHarness
{
    /// <summary>Gets the parse options of every test tree and of the generated ones: latest C#, XML docs diagnosed
    /// (so that a missing doc comment on generated public API shows as CS1591).</summary>
    public static CSharpParseOptions ParseOptions { get; } =
        new(LanguageVersion.Latest, DocumentationMode.Diagnose);

    /// <summary>Gets the compilation options: a library with nullable annotations enabled and the SDK's warning level.
    /// CS1701/CS1702 (a reference built against an older System.Runtime, as TorchSharp is) are off, as the .NET SDK
    /// turns them off in every project.</summary>
    public static CSharpCompilationOptions CompilationOptions { get; } =
        new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable, warningLevel: 9999, deterministic: true)
            .WithSpecificDiagnosticOptions([new("CS1701", ReportDiagnostic.Suppress), new("CS1702", ReportDiagnostic.Suppress)]);

    /// <summary>Gets the references: the .NET 10 reference assemblies, the NeuralOde runtime and TorchSharp.</summary>
    public static ImmutableArray<MetadataReference> References { get; } =
    [
        .. Net100.References.All,
        MetadataReference.CreateFromFile(typeof(NeuralOde.Schemes).Assembly.Location),
        MetadataReference.CreateFromFile(typeof(TorchSharp.torch).Assembly.Location),
    ];

    /// <summary>Parses one source file with <see cref="ParseOptions"/>.</summary>
    /// <param name="file">The file.</param>
    /// <returns>The syntax tree.</returns>
    public static SyntaxTree Parse(SourceFile file) =>
        CSharpSyntaxTree.ParseText(file.Text, ParseOptions, file.Path, System.Text.Encoding.UTF8);

    // Every test compilation derives from this one, so that they share its bound references: binding the ~190
    // reference assemblies again for each compilation would cost more than running the generator.
    private static readonly CSharpCompilation Empty = CSharpCompilation.Create("Tests", [], References, CompilationOptions);

    /// <summary>Creates a compilation of the given files.</summary>
    /// <param name="files">The sources.</param>
    /// <returns>The compilation, named <c>Tests</c>.</returns>
    public static CSharpCompilation CreateCompilation(params IEnumerable<SourceFile> files) =>
        Empty.AddSyntaxTrees(files.Select(Parse));

    /// <summary>Creates a driver for the generator with incremental step tracking on.</summary>
    /// <returns>The driver.</returns>
    public static GeneratorDriver CreateDriver() =>
        CSharpGeneratorDriver.Create(
            [new ButcherTableauGenerator().AsSourceGenerator()],
            parseOptions: ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>Runs the generator on a compilation with a fresh driver, or with <paramref name="driver"/>.</summary>
    /// <param name="compilation">The input.</param>
    /// <param name="driver">A driver from an earlier run, to test incrementality; null for a fresh one.</param>
    /// <returns>The run.</returns>
    public static GeneratorRun Run(CSharpCompilation compilation, GeneratorDriver? driver = null)
    {
        var after = (driver ?? CreateDriver()).RunGeneratorsAndUpdateCompilation(compilation, out var output, out var diagnostics);
        return new GeneratorRun(after, compilation, output, diagnostics);
    }

    /// <summary>Runs the generator on the given files.</summary>
    /// <param name="files">The sources.</param>
    /// <returns>The run.</returns>
    public static GeneratorRun Run(params IEnumerable<SourceFile> files) => Run(CreateCompilation(files));

    /// <summary>Runs the generator on one source, reported as <c>Test.cs</c>.</summary>
    /// <param name="source">The source.</param>
    /// <returns>The run.</returns>
    public static GeneratorRun Run(string source) => Run(new SourceFile("Test.cs", source));

    /// <summary>Throws when the generator threw: the driver turns an exception into CS8784/CS8785 and keeps it on the result.</summary>
    /// <param name="run">The run.</param>
    public static void AssertGeneratorDidNotThrow(this GeneratorRun run)
    {
        foreach (var result in run.RunResult.Results)
        {
            if (result.Exception is not null)
            {
                throw new Xunit.Sdk.XunitException($"The generator threw: {result.Exception}");
            }
        }

        var failed = run.GeneratorDiagnostics.Concat(run.RunResult.Diagnostics)
            .Where(static d => d.Id is "CS8784" or "CS8785" or "RKG000")
            .ToList();
        if (failed.Count > 0)
        {
            throw new Xunit.Sdk.XunitException($"The generator failed:\n{string.Join("\n", failed)}");
        }
    }

    /// <summary>Formats a diagnostic as one line, <c>Id | Severity | path(line,col)-(line,col) | message</c>, 1-based.</summary>
    /// <param name="diagnostic">The diagnostic.</param>
    /// <returns>The line.</returns>
    public static string Format(Diagnostic diagnostic)
    {
        var where = "(no location)";
        if (diagnostic.Location != Location.None)
        {
            var span = diagnostic.Location.GetLineSpan();
            where = $"{span.Path}({span.StartLinePosition.Line + 1},{span.StartLinePosition.Character + 1})-({span.EndLinePosition.Line + 1},{span.EndLinePosition.Character + 1})";
        }

        var suppressed = diagnostic.IsSuppressed ? " (suppressed)" : "";
        return $"{diagnostic.Id} | {diagnostic.Severity}{suppressed} | {where} | {diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture)}";
    }
}
