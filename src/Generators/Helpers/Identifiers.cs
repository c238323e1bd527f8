using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace NeuralOde.Generators.Helpers;

/// <summary>Turns names into valid C# identifiers, namespaces and hint names.</summary>
internal static class Identifiers
{
    /// <summary>Escapes a symbol name that is a C# keyword (<c>class</c> becomes <c>@class</c>).</summary>
    /// <param name="name">A valid identifier's value text.</param>
    /// <returns>The identifier as C# text.</returns>
    public static string Escape(string name) =>
        SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None ? "@" + name : name;

    /// <summary>Writes a namespace symbol as C# text, keywords escaped; null for the global namespace.</summary>
    /// <param name="symbol">The namespace.</param>
    /// <returns>The dotted name, or null.</returns>
    public static string? Namespace(INamespaceSymbol? symbol)
    {
        var parts = new List<string>();
        for (var current = symbol; current is { IsGlobalNamespace: false }; current = current.ContainingNamespace)
        {
            parts.Add(Escape(current.Name));
        }

        parts.Reverse();
        return parts.Count == 0 ? null : string.Join(".", parts);
    }

    /// <summary>
    /// Turns an assembly name into a namespace: each dotted part becomes a valid identifier (invalid characters
    /// become <c>_</c>, a part that starts with a digit or is a keyword gets a leading <c>_</c>), empty parts are
    /// dropped, and an empty result becomes <c>Generated</c>.
    /// </summary>
    /// <param name="assemblyName">The assembly name, possibly empty.</param>
    /// <returns>A valid namespace.</returns>
    public static string NamespaceFromAssemblyName(string? assemblyName)
    {
        var parts = (assemblyName ?? string.Empty)
            .Split('.')
            .Select(static part => SanitizeIdentifier(part))
            .Where(static part => part.Length > 0)
            .ToArray();
        return parts.Length == 0 ? "Generated" : string.Join(".", parts);
    }

    /// <summary>Makes a hint name from name parts: characters other than letters, digits and <c>_</c> become <c>_</c>.</summary>
    /// <param name="parts">The namespace and type names, outermost first.</param>
    /// <returns>The hint name, ending in <c>.g.cs</c>.</returns>
    public static string HintName(IEnumerable<string> parts)
    {
        var builder = new StringBuilder();
        foreach (var part in parts)
        {
            if (builder.Length > 0)
            {
                builder.Append('.');
            }

            foreach (var ch in part)
            {
                builder.Append(char.IsLetterOrDigit(ch) || ch == '_' ? ch : '_');
            }
        }

        return (builder.Length == 0 ? "Tableau" : builder.ToString()) + ".g.cs";
    }

    private static string SanitizeIdentifier(string part)
    {
        var builder = new StringBuilder(part.Length + 1);
        foreach (var ch in part)
        {
            builder.Append(
                SyntaxFacts.IsIdentifierPartCharacter(ch)
                && CharUnicodeInfo.GetUnicodeCategory(ch) is not (UnicodeCategory.Format or UnicodeCategory.Control)
                    ? ch
                    : '_');
        }

        var text = builder.ToString();
        if (text.Length == 0)
        {
            return text;
        }

        if (!SyntaxFacts.IsIdentifierStartCharacter(text[0])
            || SyntaxFacts.GetKeywordKind(text) != SyntaxKind.None
            || SyntaxFacts.GetContextualKeywordKind(text) == SyntaxKind.GlobalKeyword)
        {
            text = "_" + text;
        }

        return text;
    }
}
