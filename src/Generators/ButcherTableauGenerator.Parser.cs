using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using System.Numerics;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using NeuralOde.Generators.Diagnostics;
using NeuralOde.Generators.Helpers;
using NeuralOde.Generators.Model;
using NeuralOde.Generators.Validation;

namespace NeuralOde.Generators;

public sealed partial class ButcherTableauGenerator
{
    /// <summary>
    /// Reads one <c>[ButcherTableau]</c> class into a <see cref="TableauSpec"/>: the attribute, the coefficient
    /// fields (each element folded with <see cref="SemanticModel.GetConstantValue(SyntaxNode, CancellationToken)"/>
    /// and, where it is rational arithmetic on integer-valued literals, also kept as an exact fraction), then the
    /// <see cref="TableauValidator"/> checks. Every problem becomes a located diagnostic; nothing throws.
    /// </summary>
    internal static class Parser
    {
        /// <summary>The longest scheme name allowed.</summary>
        public const int MaxNameLength = 64;

        private const int MaxExpressionDepth = 64;
        private const int MaxLiteralDigits = 400;
        private const double ExactAgreement = 1e-9;

        /// <summary>Parses the class that <paramref name="context"/> points at.</summary>
        /// <param name="context">The class and its <c>[ButcherTableau]</c> attribute.</param>
        /// <param name="cancellationToken">Cancels the parse.</param>
        /// <returns>The spec (when valid) and the diagnostics.</returns>
        public static TableauParseResult Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
        {
            // Culture: every number is parsed and formatted with CultureInfo.InvariantCulture explicitly (a compiler
            // extension may not switch the thread's culture, RS1035), so no U+2212 minus sign reaches a file.
            // Robustness: an unexpected exception becomes RKG000 on the class instead of failing the whole generator.
            try
            {
                return ParseCore(context, cancellationToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                var location = context.TargetNode is ClassDeclarationSyntax declaration
                    ? declaration.Identifier.GetLocation()
                    : context.TargetNode.GetLocation();
                var diagnostic = Diagnostic.Create(
                    DiagnosticDescriptors.InternalError,
                    location,
                    context.TargetSymbol.Name,
                    CoefficientFormatter.OneLine(exception.GetType().Name + ": " + exception.Message));
                return new TableauParseResult { Spec = null, Diagnostics = [diagnostic] };
            }
        }

        private static TableauParseResult ParseCore(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
        {
            if (context.TargetSymbol is not INamedTypeSymbol type
                || context.TargetNode is not ClassDeclarationSyntax declaration
                || context.Attributes.IsDefaultOrEmpty
                || !IsPrimaryAttribute(type, context.Attributes[0]))
            {
                return TableauParseResult.Empty;
            }

            var attribute = context.Attributes[0];
            var attributeSyntax = attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) as AttributeSyntax;
            var typeLocation = declaration.Identifier.GetLocation();
            var diagnostics = new List<Diagnostic>();
            CheckType(type, declaration, typeLocation, diagnostics, cancellationToken);
            CheckGeneratedMemberNames(type, typeLocation, diagnostics);
            var name = ReadName(type, attribute, attributeSyntax, typeLocation, diagnostics);
            var displayName = name ?? type.Name;
            var reader = new Reader(context.SemanticModel, type, displayName, typeLocation, diagnostics, cancellationToken);

            var c = reader.ReadVector("C", required: true);
            var a = reader.ReadMatrix("A", required: true);
            var b = reader.ReadVector("B", required: true);
            var bHat = reader.ReadVector("BHat", required: false);
            var bTheta = reader.ReadMatrix("BTheta", required: false);
            var cDense = reader.ReadVector("CDense", required: false);
            var aDense = reader.ReadMatrix("ADense", required: false);

            var orders = ReadOrders(displayName, attribute, attributeSyntax, typeLocation, bHat.IsDeclared, bTheta.IsDeclared, diagnostics);
            var (order, embeddedOrder, denseOrder) = (orders.Order, orders.EmbeddedOrder, orders.DenseOrder);
            if (!bHat.IsDeclared && !attribute.NamedArguments.Any(static pair => pair.Key == "EmbeddedOrder"))
            {
                // (With EmbeddedOrder set, RKG015 already says that BHat is missing.)
                diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.NoEmbeddedWeights, typeLocation, displayName));
            }

            ValidatedTableau? validated = null;
            if (c.Value is not null && a.Value is not null && b.Value is not null
                && (!bHat.IsDeclared || bHat.Value is not null)
                && (!bTheta.IsDeclared || bTheta.Value is not null)
                && (!cDense.IsDeclared || cDense.Value is not null)
                && (!aDense.IsDeclared || aDense.Value is not null))
            {
                var parsed = new ParsedTableau
                {
                    DisplayName = displayName,
                    Order = order ?? 0,
                    OrderLocation = orders.OrderLocation,
                    EmbeddedOrder = embeddedOrder,
                    EmbeddedOrderLocation = orders.EmbeddedOrderLocation,
                    DenseOrder = denseOrder,
                    DenseOrderLocation = orders.DenseOrderLocation,
                    C = c.Value,
                    A = a.Value,
                    B = b.Value,
                    BHat = bHat.Value,
                    BTheta = bTheta.Value,
                    CDense = cDense.Value,
                    ADense = aDense.Value,
                    BHatField = bHat.FieldLocation,
                };
                validated = TableauValidator.Validate(parsed, diagnostics, cancellationToken);
            }

            // A name the compiler already rejects (say 'namespace .Schemes;') gets no file: it could not parse.
            if (validated is null
                || name is null
                || order is null
                || diagnostics.Any(static d => d.Severity == DiagnosticSeverity.Error)
                || !NameParts(type).All(SyntaxFacts.IsValidIdentifier))
            {
                return new TableauParseResult { Spec = null, Diagnostics = [.. diagnostics] };
            }

            var isRegistrable = IsReachableFromRegistry(type, out var unreachable);
            if (!isRegistrable)
            {
                diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.NotRegistered, typeLocation, name, unreachable));
            }

            var spec = new TableauSpec
            {
                Name = name,
                TypeName = Identifiers.Escape(type.Name),
                FullyQualifiedName = type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat),
                Containing = new ContainingTypeSpec
                {
                    Namespace = Identifiers.Namespace(type.ContainingNamespace),
                    DeclarationHeaders = ContainingTypes(type).Select(DeclarationHeader).ToEquatableArray(),
                },
                HintName = Identifiers.HintName(NameParts(type)),
                IsRegistrable = isRegistrable,
                SourceOrder = TypeDeclarations.OrderOf(declaration, cancellationToken),
                Stages = validated.Stages,
                Order = order.Value,
                EmbeddedOrder = bHat.Value is null ? null : embeddedOrder,
                C = ToSpec(c.Value!.Items),
                A = a.Value!.Rows.Select(static row => ToSpec(row.Items)).ToEquatableArray(),
                B = ToSpec(b.Value!.Items),
                BHat = bHat.Value is null ? null : ToSpec(bHat.Value.Items),
                E = validated.E is null ? null : ToSpec(validated.E),
                BTheta = bTheta.Value?.Rows.Select(static row => ToSpec(row.Items)).ToEquatableArray(),
                DenseOrder = bTheta.Value is null ? null : denseOrder,
                CDense = cDense.Value is null ? null : ToSpec(cDense.Value.Items),
                ADense = aDense.Value?.Rows.Select(static row => ToSpec(row.Items)).ToEquatableArray(),
                IsFsal = validated.IsFsal,
            };
            return new TableauParseResult { Spec = spec, Diagnostics = [.. diagnostics] };
        }

        private static EquatableArray<CoefficientSpec> ToSpec(IEnumerable<ParsedCoefficient> coefficients) =>
            coefficients.Select(static c => new CoefficientSpec(c.Value, c.Exact?.ToString(), c.SourceText)).ToEquatableArray();

        /// <summary>
        /// With the attribute on several partial declarations (an error the compiler reports), only the first one
        /// produces a spec, so that the type is emitted once.
        /// </summary>
        private static bool IsPrimaryAttribute(INamedTypeSymbol type, AttributeData attribute)
        {
            var all = type.GetAttributes()
                .Where(other => SymbolEqualityComparer.Default.Equals(other.AttributeClass, attribute.AttributeClass))
                .ToList();
            if (all.Count <= 1)
            {
                return true;
            }

            var first = all[0].ApplicationSyntaxReference;
            var mine = attribute.ApplicationSyntaxReference;
            return first is null || mine is null || (first.SyntaxTree == mine.SyntaxTree && first.Span == mine.Span);
        }

        private static void CheckType(
            INamedTypeSymbol type,
            ClassDeclarationSyntax declaration,
            Location typeLocation,
            List<Diagnostic> diagnostics,
            CancellationToken cancellationToken)
        {
            const string NotPartial = "must be declared partial, because the generator adds the scheme to it";
            const string FileLocal = "is file-local, so the generator cannot add the scheme to it (a part in another file would be another type); remove the 'file' modifier";
            if (!declaration.Modifiers.Any(SyntaxKind.PartialKeyword))
            {
                diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.TypeNotPartial, typeLocation, type.ToDisplayString(), NotPartial));
            }
            else if (type.IsFileLocal)
            {
                diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.TypeNotPartial, typeLocation, type.ToDisplayString(), FileLocal));
            }

            foreach (var containing in ContainingTypes(type))
            {
                var declarations = containing.DeclaringSyntaxReferences
                    .Select(reference => reference.GetSyntax(cancellationToken))
                    .OfType<TypeDeclarationSyntax>()
                    .ToList();
                var location = declarations.Count > 0 ? declarations[0].Identifier.GetLocation() : typeLocation;
                if (declarations.Count > 0 && !declarations.Any(static d => d.Modifiers.Any(SyntaxKind.PartialKeyword)))
                {
                    diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.TypeNotPartial, location, containing.ToDisplayString(), NotPartial));
                }
                else if (containing.IsFileLocal)
                {
                    diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.TypeNotPartial, location, containing.ToDisplayString(), FileLocal));
                }
            }

            if (type.TypeParameters.Length > 0 || ContainingTypes(type).Any(static t => t.IsGenericType))
            {
                diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.TypeIsGeneric, typeLocation, type.ToDisplayString()));
            }

            if (!type.IsStatic)
            {
                diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.TypeNotStatic, typeLocation, type.ToDisplayString()));
            }
        }

        /// <summary>
        /// RKG017: the emitter adds a nested class <c>Method</c> and a property <c>Scheme</c> to the tableau type, so
        /// the type cannot have either name (CS0542) nor declare a member of either name (CS0102). (The scalars' class
        /// <c>S</c> is nested in <c>Method</c>, where it hides any outer <c>S</c>, so that name stays free.)
        /// </summary>
        private static void CheckGeneratedMemberNames(INamedTypeSymbol type, Location typeLocation, List<Diagnostic> diagnostics)
        {
            foreach (var generated in Emitter.GeneratedMemberNames)
            {
                if (type.Name == generated)
                {
                    diagnostics.Add(Diagnostic.Create(
                        DiagnosticDescriptors.GeneratedMemberNameTaken,
                        typeLocation,
                        type.ToDisplayString(),
                        generated,
                        "a member cannot have the name of the type that declares it; rename the type"));
                    continue;
                }

                var taken = type.GetMembers(generated).FirstOrDefault(static m => !m.IsImplicitlyDeclared);
                if (taken is not null)
                {
                    diagnostics.Add(Diagnostic.Create(
                        DiagnosticDescriptors.GeneratedMemberNameTaken,
                        taken.Locations.FirstOrDefault(static l => l.IsInSource) ?? typeLocation,
                        type.ToDisplayString(),
                        generated,
                        $"the type already declares a member named '{generated}'; rename that member"));
                }
            }
        }

        private static string? ReadName(
            INamedTypeSymbol type,
            AttributeData attribute,
            AttributeSyntax? attributeSyntax,
            Location typeLocation,
            List<Diagnostic> diagnostics)
        {
            var location = attributeSyntax?.ArgumentList?.Arguments.FirstOrDefault(static a => a.NameEquals is null)?.GetLocation()
                ?? attributeSyntax?.GetLocation()
                ?? typeLocation;
            var argument = attribute.ConstructorArguments.Length > 0 ? attribute.ConstructorArguments[0] : default;
            var name = argument.Kind == TypedConstantKind.Primitive ? argument.Value as string : null;

            var problem = name switch
            {
                null => "the name is missing or null",
                "" => "the name is empty",
                _ when name.Length > MaxNameLength => $"the name has {name.Length} characters, but at most {MaxNameLength} are allowed",
                _ when !IsPrintable(name) => "the name contains whitespace, control or invisible characters",
                _ => null,
            };
            if (problem is null)
            {
                return name;
            }

            diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.InvalidName, location, type.ToDisplayString(), problem));
            return null;
        }

        private static bool IsPrintable(string name)
        {
            for (var i = 0; i < name.Length; i++)
            {
                var ch = name[i];
                if (char.IsHighSurrogate(ch) && i + 1 < name.Length && char.IsLowSurrogate(name[i + 1]))
                {
                    i++;
                    continue;
                }

                if (char.IsWhiteSpace(ch)
                    || char.IsSurrogate(ch)
                    || CharUnicodeInfo.GetUnicodeCategory(ch) is UnicodeCategory.Control or UnicodeCategory.Format
                        or UnicodeCategory.OtherNotAssigned or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator)
                {
                    return false;
                }
            }

            return true;
        }

        private static DeclaredOrders ReadOrders(
            string displayName,
            AttributeData attribute,
            AttributeSyntax? attributeSyntax,
            Location typeLocation,
            bool hasBHat,
            bool hasBTheta,
            List<Diagnostic> diagnostics)
        {
            var attributeLocation = attributeSyntax?.GetLocation() ?? typeLocation;
            (bool IsSet, int? Value) order = default, embeddedOrder = default, denseOrder = default;
            foreach (var pair in attribute.NamedArguments)
            {
                var value = pair.Value.Kind == TypedConstantKind.Primitive && pair.Value.Value is int number ? number : (int?)null;
                switch (pair.Key)
                {
                    case "Order":
                        order = (true, value);
                        break;
                    case "EmbeddedOrder":
                        embeddedOrder = (true, value);
                        break;
                    case "DenseOrder":
                        denseOrder = (true, value);
                        break;
                }
            }

            void Report(string property, string problem) =>
                diagnostics.Add(Diagnostic.Create(
                    DiagnosticDescriptors.InvalidOrder,
                    NamedArgumentLocation(attributeSyntax, property) ?? attributeLocation,
                    displayName,
                    problem));

            int? validOrder = null;
            if (!order.IsSet)
            {
                Report("Order", "Order is not set; declare the order of B, for example Order = 4");
            }
            else if (order.Value is not (>= 1 and <= RootedTrees.MaxOrder))
            {
                Report("Order", $"Order is {Describe(order.Value)}, but it must be between 1 and {RootedTrees.MaxOrder}");
            }
            else
            {
                validOrder = order.Value;
            }

            int? validEmbeddedOrder = null;
            if (embeddedOrder.IsSet && embeddedOrder.Value is not (>= 1 and <= RootedTrees.MaxOrder))
            {
                Report("EmbeddedOrder", $"EmbeddedOrder is {Describe(embeddedOrder.Value)}, but it must be between 1 and {RootedTrees.MaxOrder}");
            }
            else if (embeddedOrder.IsSet && !hasBHat)
            {
                Report("EmbeddedOrder", "EmbeddedOrder is set, but the tableau declares no BHat");
            }
            else if (!embeddedOrder.IsSet && hasBHat)
            {
                Report("EmbeddedOrder", "BHat is declared, but EmbeddedOrder is not set; declare the order of BHat, for example EmbeddedOrder = 5");
            }
            else
            {
                validEmbeddedOrder = embeddedOrder.Value;
            }

            // The dense output's order: stated with BTheta, and at most the order of B (bᵢ(1) = bᵢ).
            int? validDenseOrder = null;
            if (denseOrder.IsSet && denseOrder.Value is not (>= 1 and <= RootedTrees.MaxOrder))
            {
                Report("DenseOrder", $"DenseOrder is {Describe(denseOrder.Value)}, but it must be between 1 and {RootedTrees.MaxOrder}");
            }
            else if (denseOrder.IsSet && !hasBTheta)
            {
                Report("DenseOrder", "DenseOrder is set, but the tableau declares no BTheta");
            }
            else if (denseOrder.IsSet && validOrder is { } p && denseOrder.Value > p)
            {
                Report("DenseOrder", $"DenseOrder is {Describe(denseOrder.Value)}, but the dense output ends at B (bᵢ(1) = bᵢ), so it cannot exceed Order = {p}");
            }
            else
            {
                validDenseOrder = denseOrder.Value;
            }

            return new DeclaredOrders(
                validOrder,
                NamedArgumentLocation(attributeSyntax, "Order") ?? attributeLocation,
                validEmbeddedOrder,
                NamedArgumentLocation(attributeSyntax, "EmbeddedOrder") ?? attributeLocation,
                validDenseOrder,
                NamedArgumentLocation(attributeSyntax, "DenseOrder") ?? attributeLocation);
        }

        /// <summary>The orders the attribute declares (null where missing or invalid), with where each is reported.</summary>
        private sealed record DeclaredOrders(
            int? Order,
            Location OrderLocation,
            int? EmbeddedOrder,
            Location EmbeddedOrderLocation,
            int? DenseOrder,
            Location DenseOrderLocation);

        private static string Describe(int? value) =>
            value?.ToString(CultureInfo.InvariantCulture) ?? "not an integer";

        private static Location? NamedArgumentLocation(AttributeSyntax? attributeSyntax, string property) =>
            attributeSyntax?.ArgumentList?.Arguments
                .LastOrDefault(a => a.NameEquals?.Name.Identifier.ValueText == property)
                ?.GetLocation();

        private static IEnumerable<INamedTypeSymbol> ContainingTypes(INamedTypeSymbol type)
        {
            var types = new List<INamedTypeSymbol>();
            for (var current = type.ContainingType; current is not null; current = current.ContainingType)
            {
                types.Add(current);
            }

            types.Reverse();
            return types;
        }

        private static string DeclarationHeader(INamedTypeSymbol type)
        {
            var keywords = type switch
            {
                { TypeKind: TypeKind.Interface } => "partial interface",
                { TypeKind: TypeKind.Struct, IsRecord: true } => "partial record struct",
                { TypeKind: TypeKind.Struct, IsRefLikeType: true } => "ref partial struct",
                { TypeKind: TypeKind.Struct } => "partial struct",
                { IsRecord: true } => "partial record",
                _ => "partial class",
            };
            return keywords + " " + Identifiers.Escape(type.Name);
        }

        private static IEnumerable<string> NameParts(INamedTypeSymbol type)
        {
            var parts = new List<string>();
            for (ISymbol? current = type; current is not null and not INamespaceSymbol { IsGlobalNamespace: true }; current = current.ContainingSymbol)
            {
                parts.Add(current.Name);
            }

            parts.Reverse();
            return parts;
        }

        /// <summary>
        /// Whether the registry, a top-level internal class of the same assembly, can name the type: it and every
        /// containing type must be internal, protected internal or public (a file-local one is RKG001).
        /// </summary>
        /// <param name="type">The tableau type.</param>
        /// <param name="reason">When it cannot, which type is in the way and why, for RKG018.</param>
        /// <returns>Whether the type can be registered.</returns>
        private static bool IsReachableFromRegistry(INamedTypeSymbol type, out string reason)
        {
            for (var current = type; current is not null; current = current.ContainingType)
            {
                if (current.IsFileLocal
                    || current.DeclaredAccessibility is not (Accessibility.Public or Accessibility.Internal or Accessibility.ProtectedOrInternal))
                {
                    var accessibility = current.IsFileLocal ? "file-local" : SyntaxFacts.GetText(current.DeclaredAccessibility);
                    var role = SymbolEqualityComparer.Default.Equals(current, type) ? string.Empty : ", a containing type";
                    reason = $"the generated registry cannot reach '{current.ToDisplayString()}'{role}, which is {accessibility}";
                    return false;
                }
            }

            reason = string.Empty;
            return true;
        }

        /// <summary>A member that may be declared, and its parsed value when it is valid.</summary>
        private readonly record struct Member<T>(bool IsDeclared, T? Value, Location? FieldLocation = null)
            where T : class;

        /// <summary>An element of an array literal: an expression, or an implicit zero of <c>new double[n]</c>.</summary>
        private readonly record struct Element(ExpressionSyntax? Expression, SyntaxNode Node);

        /// <summary>Reads the coefficient fields of one tableau type.</summary>
        private sealed class Reader(
            SemanticModel semanticModel,
            INamedTypeSymbol type,
            string displayName,
            Location typeLocation,
            List<Diagnostic> diagnostics,
            CancellationToken cancellationToken)
        {
            public Member<ParsedArray> ReadVector(string name, bool required)
            {
                if (!TryReadInitializer(name, rank: 1, required, out var declared, out var initializer, out var model))
                {
                    return new(declared, null);
                }

                return new(true, ReadArray(name, initializer!, model!), FieldLocation(name));
            }

            public Member<ParsedMatrix> ReadMatrix(string name, bool required)
            {
                if (!TryReadInitializer(name, rank: 2, required, out var declared, out var initializer, out var model))
                {
                    return new(declared, null);
                }

                if (!TryGetElements(initializer!, name, model!, out var elements))
                {
                    return new(true, null);
                }

                var rows = new List<ParsedArray>(elements.Count);
                var valid = true;
                for (var i = 0; i < elements.Count; i++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var path = $"{name}[{i}]";
                    var row = elements[i].Expression is { } expression ? ReadArray(path, expression, model!) : null;
                    if (row is null)
                    {
                        if (elements[i].Expression is null)
                        {
                            ReportMember(elements[i].Node.GetLocation(), path, "must be an array literal written inline, such as [1.0 / 4]");
                        }

                        valid = false;
                        continue;
                    }

                    rows.Add(row);
                }

                return new(true, valid ? new ParsedMatrix(name, initializer!.GetLocation(), rows) : null);
            }

            private bool TryReadInitializer(
                string name,
                int rank,
                bool required,
                out bool declared,
                out ExpressionSyntax? initializer,
                out SemanticModel? model)
            {
                declared = false;
                initializer = null;
                model = null;
                var expectedType = rank == 1 ? "double[]" : "double[][]";
                var members = type.GetMembers(name);
                if (members.IsEmpty)
                {
                    if (required)
                    {
                        ReportMember(typeLocation, name, $"is missing; declare it as 'static readonly {expectedType} {name} = [...]'");
                    }

                    return false;
                }

                declared = true;
                var field = members.OfType<IFieldSymbol>().FirstOrDefault();
                var location = (field ?? members[0]).Locations.FirstOrDefault(static l => l.IsInSource) ?? typeLocation;
                if (field is null)
                {
                    ReportMember(location, name, $"must be a static readonly field of type {expectedType}");
                    return false;
                }

                var ok = true;
                if (!IsDoubleArray(field.Type, rank))
                {
                    ReportMember(location, name, $"must be of type {expectedType}, but it is {field.Type.ToDisplayString()}");
                    ok = false;
                }

                if (!field.IsStatic || !field.IsReadOnly)
                {
                    ReportMember(location, name, "must be static readonly");
                    ok = false;
                }

                var declarator = field.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(cancellationToken) as VariableDeclaratorSyntax;
                initializer = declarator?.Initializer?.Value;
                if (initializer is null)
                {
                    ReportMember(location, name, "has no initializer; initialize it inline with an array literal, such as [0, 1.0 / 2]");
                    return false;
                }

                model = initializer.SyntaxTree == semanticModel.SyntaxTree
                    ? semanticModel
                    : semanticModel.Compilation.GetSemanticModel(initializer.SyntaxTree);
                return ok;
            }

            /// <summary>The identifier of the field <paramref name="name"/>, where a diagnostic about it as a whole points.</summary>
            private Location FieldLocation(string name) =>
                type.GetMembers(name).OfType<IFieldSymbol>().FirstOrDefault()?.Locations.FirstOrDefault(static l => l.IsInSource)
                ?? typeLocation;

            private static bool IsDoubleArray(ITypeSymbol type, int rank) =>
                type is IArrayTypeSymbol { Rank: 1 } array
                && (rank == 1 ? array.ElementType.SpecialType == SpecialType.System_Double : IsDoubleArray(array.ElementType, rank - 1));

            private ParsedArray? ReadArray(string path, ExpressionSyntax expression, SemanticModel model)
            {
                if (!TryGetElements(expression, path, model, out var elements))
                {
                    return null;
                }

                var items = new List<ParsedCoefficient>(elements.Count);
                for (var i = 0; i < elements.Count; i++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    items.Add(ReadCoefficient($"{path}[{i}]", elements[i], model));
                }

                return new ParsedArray(path, expression.GetLocation(), items);
            }

            private bool TryGetElements(ExpressionSyntax expression, string path, SemanticModel model, out List<Element> elements)
            {
                elements = [];
                while (expression is ParenthesizedExpressionSyntax parenthesized)
                {
                    expression = parenthesized.Expression;
                }

                switch (expression)
                {
                    case CollectionExpressionSyntax collection:
                        foreach (var element in collection.Elements)
                        {
                            elements.Add(element is ExpressionElementSyntax { Expression: var item }
                                ? new Element(item, item)
                                : new Element(null, element));
                        }

                        // A spread (..x) is not a coefficient; report it where it is.
                        foreach (var spread in elements.Where(static e => e.Expression is null))
                        {
                            ReportMember(spread.Node.GetLocation(), path, "must list its entries inline; a spread element ('..') cannot be read at compile time");
                        }

                        if (elements.Any(static e => e.Expression is null))
                        {
                            return false;
                        }

                        break;
                    case ArrayCreationExpressionSyntax { Initializer: { } initializer }:
                        elements.AddRange(initializer.Expressions.Select(static e => new Element(e, e)));
                        break;
                    case ArrayCreationExpressionSyntax { Type.RankSpecifiers: [{ Sizes: [var size] }, ..] } creation
                        when model.GetConstantValue(size, cancellationToken) is { HasValue: true, Value: int length }
                            && length >= 0 && length <= TableauValidator.MaxStages:
                        // new double[n]: n zeros.
                        elements.AddRange(Enumerable.Repeat(new Element(null, creation), length));
                        break;
                    case ImplicitArrayCreationExpressionSyntax implicitCreation:
                        elements.AddRange(implicitCreation.Initializer.Expressions.Select(static e => new Element(e, e)));
                        break;
                    case InitializerExpressionSyntax initializer:
                        elements.AddRange(initializer.Expressions.Select(static e => new Element(e, e)));
                        break;
                    default:
                        ReportMember(expression.GetLocation(), path, "must be initialized inline with an array literal, such as [0, 1.0 / 2]");
                        return false;
                }

                if (elements.Count > TableauValidator.MaxStages)
                {
                    diagnostics.Add(Diagnostic.Create(
                        DiagnosticDescriptors.ShapeMismatch,
                        expression.GetLocation(),
                        displayName,
                        $"{path} has {elements.Count} entries, but at most {TableauValidator.MaxStages} stages are supported"));
                    return false;
                }

                return true;
            }

            private ParsedCoefficient ReadCoefficient(string path, Element element, SemanticModel model)
            {
                if (element.Expression is not { } expression)
                {
                    return new ParsedCoefficient(0, Rational.Zero, "0", element.Node.GetLocation());
                }

                var location = expression.GetLocation();
                var text = CoefficientFormatter.OneLine(expression.ToString());
                var invalid = new ParsedCoefficient(double.NaN, null, text, location);

                // 1 / 4 compiles (to 0) but is never what a tableau means.
                var integerDivision = false;
                foreach (var division in expression.DescendantNodesAndSelf().OfType<BinaryExpressionSyntax>())
                {
                    if (division.IsKind(SyntaxKind.DivideExpression)
                        && IsIntegral(model.GetTypeInfo(division, cancellationToken).Type))
                    {
                        diagnostics.Add(Diagnostic.Create(
                            DiagnosticDescriptors.IntegerDivision, division.GetLocation(), path, CoefficientFormatter.OneLine(division.ToString())));
                        integerDivision = true;
                    }
                }

                if (integerDivision)
                {
                    return invalid;
                }

                var constant = model.GetConstantValue(expression, cancellationToken);
                if (!constant.HasValue || !TryToDouble(constant.Value, out var value) || double.IsNaN(value) || double.IsInfinity(value))
                {
                    diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.CoefficientNotConstant, location, path, text));
                    return invalid;
                }

                // Keep the exact fraction when the syntax is rational arithmetic on integer-valued literals, and emit
                // the double nearest to it; drop it when it disagrees with the folded value (say 1e20 + 1 - 1e20).
                var exact = ExactValue(expression, model, depth: 0);
                if (exact is { } fraction)
                {
                    var nearest = fraction.ToDouble();
                    if (nearest == value || Math.Abs(nearest - value) <= ExactAgreement * Math.Max(Math.Abs(nearest), Math.Abs(value)))
                    {
                        value = nearest;
                    }
                    else
                    {
                        exact = null;
                    }
                }

                return new ParsedCoefficient(value == 0 ? 0 : value, exact, text, location);
            }

            private Rational? ExactValue(ExpressionSyntax expression, SemanticModel model, int depth)
            {
                if (depth > MaxExpressionDepth)
                {
                    return null;
                }

                switch (expression)
                {
                    case ParenthesizedExpressionSyntax parenthesized:
                        return ExactValue(parenthesized.Expression, model, depth + 1);
                    case CheckedExpressionSyntax checkedExpression:
                        return ExactValue(checkedExpression.Expression, model, depth + 1);
                    case LiteralExpressionSyntax literal when literal.IsKind(SyntaxKind.NumericLiteralExpression):
                        return LiteralValue(literal.Token);
                    case PrefixUnaryExpressionSyntax unary when unary.IsKind(SyntaxKind.UnaryPlusExpression):
                        return ExactValue(unary.Operand, model, depth + 1);
                    case PrefixUnaryExpressionSyntax unary when unary.IsKind(SyntaxKind.UnaryMinusExpression):
                        return -ExactValue(unary.Operand, model, depth + 1);
                    case BinaryExpressionSyntax binary:
                        if (ExactValue(binary.Left, model, depth + 1) is not { } left
                            || ExactValue(binary.Right, model, depth + 1) is not { } right)
                        {
                            return null;
                        }

                        return binary.Kind() switch
                        {
                            SyntaxKind.AddExpression => left + right,
                            SyntaxKind.SubtractExpression => left - right,
                            SyntaxKind.MultiplyExpression => left * right,
                            SyntaxKind.DivideExpression when left.TryDivide(right, out var quotient) => quotient,
                            _ => null,
                        };
                    case CastExpressionSyntax cast:
                        if (ExactValue(cast.Expression, model, depth + 1) is not { } inner)
                        {
                            return null;
                        }

                        // (double) keeps the value; another cast keeps it only when it is an integer that survives.
                        if (model.GetTypeInfo(cast.Type, cancellationToken).Type?.SpecialType == SpecialType.System_Double)
                        {
                            return inner;
                        }

                        return inner.IsInteger
                            && model.GetConstantValue(cast, cancellationToken) is { HasValue: true } castValue
                            && TryToDouble(castValue.Value, out var converted)
                            && converted == inner.ToDouble()
                                ? inner
                                : null;
                    default:
                        return null;
                }
            }

            private static Rational? LiteralValue(SyntaxToken token) =>
                token.Value switch
                {
                    int value => Rational.FromInteger(value),
                    uint value => Rational.FromInteger(value),
                    long value => Rational.FromInteger(value),
                    ulong value => Rational.FromInteger(value),
                    double or float or decimal => IntegerFromRealLiteral(token.Text),
                    _ => null,
                };

            /// <summary>
            /// Reads a real literal's text exactly (<c>3.0</c>, <c>2558722523.0</c>, <c>1e3</c>, <c>1_000.0</c>) and
            /// returns it when it is an integer; a non-integer literal such as <c>0.161</c> is not exact.
            /// </summary>
            private static Rational? IntegerFromRealLiteral(string text)
            {
                text = text.Replace("_", string.Empty);
                if (text.Length > 0 && "fFdDmM".IndexOf(text[text.Length - 1]) >= 0)
                {
                    text = text.Substring(0, text.Length - 1);
                }

                var exponent = 0;
                var e = text.IndexOfAny(['e', 'E']);
                if (e >= 0)
                {
                    if (!int.TryParse(text.Substring(e + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out exponent)
                        || Math.Abs(exponent) > MaxLiteralDigits)
                    {
                        return null;
                    }

                    text = text.Substring(0, e);
                }

                var point = text.IndexOf('.');
                var fractionDigits = point < 0 ? 0 : text.Length - point - 1;
                var digits = point < 0 ? text : text.Remove(point, 1);
                if (digits.Length == 0 || digits.Length > MaxLiteralDigits || !digits.All(static d => d is >= '0' and <= '9'))
                {
                    return null;
                }

                var mantissa = BigInteger.Parse(digits, NumberStyles.None, CultureInfo.InvariantCulture);
                var scale = exponent - fractionDigits;
                if (scale >= 0)
                {
                    return Rational.FromInteger(mantissa * BigInteger.Pow(10, scale));
                }

                var divisor = BigInteger.Pow(10, -scale);
                return (mantissa % divisor).IsZero ? Rational.FromInteger(mantissa / divisor) : null;
            }

            private static bool IsIntegral(ITypeSymbol? type) =>
                type?.SpecialType is SpecialType.System_Int32 or SpecialType.System_UInt32 or SpecialType.System_Int64
                    or SpecialType.System_UInt64 or SpecialType.System_Int16 or SpecialType.System_UInt16
                    or SpecialType.System_Byte or SpecialType.System_SByte or SpecialType.System_Char
                    or SpecialType.System_IntPtr or SpecialType.System_UIntPtr;

            private static bool TryToDouble(object? value, out double result)
            {
                switch (value)
                {
                    case double d:
                        result = d;
                        return true;
                    case float f:
                        result = f;
                        return true;
                    case decimal m:
                        result = (double)m;
                        return true;
                    case int or uint or long or ulong or short or ushort or byte or sbyte:
                        result = Convert.ToDouble(value, CultureInfo.InvariantCulture);
                        return true;
                    case char ch:
                        result = ch;
                        return true;
                    default:
                        result = double.NaN;
                        return false;
                }
            }

            private void ReportMember(Location location, string member, string problem) =>
                diagnostics.Add(Diagnostic.Create(DiagnosticDescriptors.MemberInvalid, location, member, problem));
        }
    }
}
