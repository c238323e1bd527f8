using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using NeuralOde.Generators.Model;

namespace NeuralOde.Generators;

/// <summary>
/// Compiles each <c>[ButcherTableau]</c> class into an unrolled, batched Runge–Kutta step: a nested
/// <c>Method</c> class deriving from <c>NeuralOde.Stepping.RungeKuttaScheme</c>, plus one registry of every scheme
/// in the compilation. Malformed declarations get located <c>RKG</c> diagnostics; the generator never throws.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed partial class ButcherTableauGenerator : IIncrementalGenerator
{
    /// <inheritdoc/>
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        // Parse: every class marked [ButcherTableau] becomes a value-equatable spec (when valid) and its diagnostics.
        IncrementalValuesProvider<TableauParseResult> results = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                KnownTypeNames.ButcherTableauAttribute,
                predicate: static (node, _) => node is ClassDeclarationSyntax,
                transform: static (attributeContext, cancellationToken) => Parser.Parse(attributeContext, cancellationToken))
            .WithTrackingName(TrackingNames.Parse);

        // Diagnostics: reported on their own output, as raw diagnostics that #pragma can suppress.
        context.RegisterSourceOutput(
            results.Select(static (result, _) => result.Diagnostics),
            static (productionContext, diagnostics) => ReportDiagnostics(productionContext, diagnostics));

        // Specs: only valid tableaux go on; an unchanged spec leaves its file cached.
        IncrementalValuesProvider<TableauSpec> specs = results
            .Select(static (result, _) => result.Spec)
            .Where(static spec => spec is not null)
            .WithTrackingName(TrackingNames.Spec)!;

        // Registry plan: all specs together decide duplicate names, unique hint names and the registry entries.
        IncrementalValueProvider<RegistryPlan> plan = specs
            .Collect()
            .WithTrackingName(TrackingNames.Registry)
            .Select(static (all, cancellationToken) => RegistryEmitter.Plan(all, cancellationToken));

        // Tableau sources: one file per tableau, skipped for a duplicate name.
        context.RegisterSourceOutput(
            specs.Combine(plan),
            static (productionContext, pair) => Emitter.Emit(productionContext, pair.Left, pair.Right));

        // Registry source, in a namespace named after the assembly.
        IncrementalValueProvider<string> assemblyName = context.CompilationProvider
            .Select(static (compilation, _) => compilation.AssemblyName ?? string.Empty);
        context.RegisterSourceOutput(
            plan.Combine(assemblyName),
            static (productionContext, pair) => RegistryEmitter.Emit(productionContext, pair.Left, pair.Right));

        // Duplicate names: located at the duplicate's name argument, found again in the current compilation.
        IncrementalValueProvider<DiagnosticBatch> duplicateNames = plan
            .Select(static (p, _) => p.Duplicates)
            .Combine(context.CompilationProvider)
            .Select(static (pair, cancellationToken) => RegistryEmitter.DuplicateDiagnostics(pair.Left, pair.Right, cancellationToken));
        context.RegisterSourceOutput(
            duplicateNames,
            static (productionContext, batch) => ReportDiagnostics(productionContext, batch.Items));
    }

    private static void ReportDiagnostics(SourceProductionContext context, ImmutableArray<Diagnostic> diagnostics)
    {
        foreach (var diagnostic in diagnostics)
        {
            context.ReportDiagnostic(diagnostic);
        }
    }
}
