using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using NeuralOde.Generators.Diagnostics;
using NeuralOde.Generators.Helpers;
using NeuralOde.Generators.Model;

namespace NeuralOde.Generators;

public sealed partial class ButcherTableauGenerator
{
    /// <summary>
    /// Plans the compilation-wide decisions (duplicate names, unique hint names, registry entries) and writes
    /// <c>ButcherTableauRegistry.g.cs</c>: every scheme of the assembly, enumerable and findable by name, registered
    /// with <c>NeuralOde.Schemes</c> by a module initializer.
    /// </summary>
    internal static class RegistryEmitter
    {
        /// <summary>The registry's hint name; no tableau file may take it.</summary>
        public const string HintName = "ButcherTableauRegistry.g.cs";

        /// <summary>
        /// Decides, in source order (file path, then position), which tableaux keep their name: the first one with a
        /// name (ignoring case) wins, later ones are reported and left out. Each kept tableau gets a hint name that is
        /// unique ignoring case (a numeric part is added on a clash, which no type name can produce).
        /// </summary>
        /// <param name="specs">Every valid tableau of the compilation.</param>
        /// <param name="cancellationToken">Cancels the planning.</param>
        /// <returns>The plan.</returns>
        public static RegistryPlan Plan(ImmutableArray<TableauSpec> specs, CancellationToken cancellationToken)
        {
            var ordered = specs
                .OrderBy(static s => s.SourceOrder)
                .ThenBy(static s => s.FullyQualifiedName, StringComparer.Ordinal);

            var owners = new Dictionary<string, TableauSpec>(StringComparer.OrdinalIgnoreCase);
            var upperNames = new HashSet<string>(StringComparer.Ordinal);
            var types = new HashSet<string>(StringComparer.Ordinal);
            var ambiguous = new HashSet<string>(StringComparer.Ordinal);
            var hintNames = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { HintName };
            var files = new List<PlannedFile>();
            var entries = new List<RegistryEntry>();
            var duplicates = new List<DuplicateName>();
            foreach (var spec in ordered)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (!types.Add(spec.FullyQualifiedName))
                {
                    // Two tableau types with one full name (a nested N.A.B and a B in namespace N.A: the compilation
                    // already fails with CS0101). Emit neither: their files would share a hint name, which fails
                    // the whole generator.
                    ambiguous.Add(spec.FullyQualifiedName);
                    continue;
                }

                var upperName = spec.Name.ToUpperInvariant();
                if (owners.TryGetValue(spec.Name, out var owner) || !upperNames.Add(upperName))
                {
                    owner ??= owners.Values.First(o => o.Name.ToUpperInvariant() == upperName);
                    duplicates.Add(new DuplicateName(spec.Name, DisplayName(owner), spec.SourceOrder));
                    continue;
                }

                owners.Add(spec.Name, spec);
                files.Add(new PlannedFile(spec.FullyQualifiedName, UniqueHintName(spec.HintName, hintNames)));
                if (spec.IsRegistrable)
                {
                    entries.Add(new RegistryEntry(spec.Name, upperName, spec.FullyQualifiedName));
                }
            }

            return new RegistryPlan
            {
                Files = files.Where(f => !ambiguous.Contains(f.FullyQualifiedName)).ToEquatableArray(),
                Entries = entries
                    .Where(e => !ambiguous.Contains(e.FullyQualifiedName))
                    .OrderBy(static e => e.Name, StringComparer.OrdinalIgnoreCase)
                    .ThenBy(static e => e.Name, StringComparer.Ordinal)
                    .ToEquatableArray(),
                Duplicates = duplicates.ToEquatableArray(),
            };
        }

        /// <summary>
        /// Creates the RKG012 diagnostics of the duplicate names, located at each duplicate's name argument. The
        /// plan holds no locations (they would change on every edit above a tableau), so the declarations are found
        /// again in the compilation; this runs on every edit but only searches when there is a duplicate.
        /// </summary>
        /// <param name="duplicates">The duplicates of the plan.</param>
        /// <param name="compilation">The current compilation.</param>
        /// <param name="cancellationToken">Cancels the search.</param>
        /// <returns>The diagnostics, comparable by value.</returns>
        public static DiagnosticBatch DuplicateDiagnostics(
            EquatableArray<DuplicateName> duplicates, Compilation compilation, CancellationToken cancellationToken)
        {
            if (duplicates.Count == 0)
            {
                return DiagnosticBatch.Empty;
            }

            var attributeType = compilation.GetTypeByMetadataName(KnownTypeNames.ButcherTableauAttribute);
            var diagnostics = ImmutableArray.CreateBuilder<Diagnostic>(duplicates.Count);
            foreach (var duplicate in duplicates)
            {
                var location = Location.None;
                try
                {
                    var declaration = TypeDeclarations.Find(compilation, duplicate.Declaration, cancellationToken);
                    location = NameLocation(compilation, attributeType, declaration, cancellationToken);
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    // Only the location is lost: the duplicate is still reported.
                }

                diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.DuplicateName, location, duplicate.Name, duplicate.FirstType));
            }

            return new DiagnosticBatch(diagnostics.MoveToImmutable());
        }

        /// <summary>Writes the registry when there is a scheme to register.</summary>
        /// <param name="context">The production context.</param>
        /// <param name="plan">The plan.</param>
        /// <param name="assemblyName">The compilation's assembly name, which names the registry's namespace.</param>
        public static void Emit(SourceProductionContext context, RegistryPlan plan, string assemblyName)
        {
            if (plan.Entries.Count == 0)
            {
                return;
            }

            try
            {
                context.AddSource(HintName, Write(plan, assemblyName));
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                context.ReportDiagnostic(Diagnostic.Create(
                    DiagnosticDescriptors.InternalError,
                    Location.None,
                    "ButcherTableauRegistry",
                    CoefficientFormatter.OneLine(exception.GetType().Name + ": " + exception.Message)));
            }
        }

        /// <summary>Writes the registry source.</summary>
        /// <param name="plan">The plan, with at least one entry.</param>
        /// <param name="assemblyName">The assembly name.</param>
        /// <returns>The source text.</returns>
        internal static Microsoft.CodeAnalysis.Text.SourceText Write(RegistryPlan plan, string assemblyName)
        {
            const string Scheme = KnownTypeNames.RungeKuttaScheme;
            var example = SymbolDisplay.FormatLiteral(plan.Entries[0].Name, quote: true).Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");
            var writer = new SourceWriter();
            writer.WriteLine("// <auto-generated/>");
            writer.WriteLine("#nullable enable");
            writer.WriteLine();
            writer.OpenBlock("namespace " + Identifiers.NamespaceFromAssemblyName(assemblyName));
            writer.WriteLine($$"""
                /// <summary>
                /// Every Runge–Kutta scheme declared with <c>[ButcherTableau]</c> in this assembly, registered with
                /// <see cref="{{KnownTypeNames.Schemes}}"/> when the assembly loads.
                /// </summary>
                [{{KnownTypeNames.GeneratedCodeAttribute}}("{{KnownTypeNames.GeneratorName}}", "{{KnownTypeNames.GeneratorVersion}}")]
                """);
            writer.OpenBlock("internal static class ButcherTableauRegistry");
            writer.WriteLine("/// <summary>Gets this assembly's schemes, ordered by name (ignoring case).</summary>");
            writer.WriteLine($"public static {KnownTypeNames.IReadOnlyList}<{Scheme}> All {{ get; }} =");
            writer.WriteLine("[");
            writer.Indentation++;
            foreach (var entry in plan.Entries)
            {
                writer.WriteLine($"{entry.FullyQualifiedName}.Method.Instance,");
            }

            writer.Indentation--;
            writer.WriteLine("];");
            writer.WriteLine();
            writer.WriteLine($$"""
                /// <summary>Finds one of this assembly's schemes by name, ignoring case.</summary>
                /// <param name="name">The declared name, for example <c>{{example}}</c>.</param>
                /// <returns>The scheme, or null when none of this assembly's schemes has that name.</returns>
                /// <exception cref="{{KnownTypeNames.ArgumentNullException}}"><paramref name="name"/> is null.</exception>
                public static {{Scheme}}? Find(string name)
                """);
            writer.OpenBlock();
            writer.WriteLine($"{KnownTypeNames.ArgumentNullException}.ThrowIfNull(name);");
            writer.WriteLine("return name.ToUpperInvariant() switch");
            writer.OpenBlock();
            foreach (var entry in plan.Entries)
            {
                writer.WriteLine($"{SymbolDisplay.FormatLiteral(entry.UpperName, quote: true)} => {entry.FullyQualifiedName}.Method.Instance,");
            }

            writer.WriteLine("_ => null,");
            writer.CloseBlock(";");
            writer.CloseBlock();
            writer.WriteLine();
            writer.WriteLine($$"""
                /// <summary>Registers this assembly's schemes with <see cref="{{KnownTypeNames.Schemes}}"/> when the assembly loads.</summary>
                [{{KnownTypeNames.ModuleInitializerAttribute}}]
                internal static void Register() => {{KnownTypeNames.Schemes}}.Register(All);
                """);
            writer.CloseBlock();
            writer.CloseBlock();
            return writer.ToSourceText();
        }

        private static Location NameLocation(
            Compilation compilation, INamedTypeSymbol? attributeType, TypeDeclarationSyntax? declaration, CancellationToken cancellationToken)
        {
            if (declaration is null)
            {
                return Location.None;
            }

            var model = compilation.GetSemanticModel(declaration.SyntaxTree);
            var attribute = declaration.AttributeLists
                .SelectMany(static list => list.Attributes)
                .FirstOrDefault(a => attributeType is not null
                    && SymbolEqualityComparer.Default.Equals(model.GetSymbolInfo(a, cancellationToken).Symbol?.ContainingType, attributeType));
            return attribute?.ArgumentList?.Arguments.FirstOrDefault(static a => a.NameEquals is null)?.GetLocation()
                ?? attribute?.GetLocation()
                ?? declaration.Identifier.GetLocation();
        }

        private static string UniqueHintName(string preferred, HashSet<string> taken)
        {
            if (taken.Add(preferred))
            {
                return preferred;
            }

            var stem = preferred.Substring(0, preferred.Length - ".g.cs".Length);
            for (var n = 2; ; n++)
            {
                var candidate = $"{stem}.{n.ToString(CultureInfo.InvariantCulture)}.g.cs";
                if (taken.Add(candidate))
                {
                    return candidate;
                }
            }
        }

        private static string DisplayName(TableauSpec spec) =>
            spec.FullyQualifiedName.StartsWith("global::", StringComparison.Ordinal)
                ? spec.FullyQualifiedName.Substring("global::".Length)
                : spec.FullyQualifiedName;
    }
}
