using System.Text;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace NeuralOde.Generators.Tests.Infrastructure;

/// <summary>An expected diagnostic: its ID and the span it must cover.</summary>
/// <param name="Id">The diagnostic ID, for example <c>RKG001</c>.</param>
/// <param name="Span">The span in the source without markup.</param>
public readonly record struct ExpectedDiagnostic(string Id, TextSpan Span);

/// <summary>
/// The Roslyn testing library's markup, <c>{|RKG001:text|}</c>: the marked text is where a diagnostic with that ID
/// must be reported. Spans do not nest.
/// </summary>
public static partial class Markup
{
    /// <summary>Removes the markup.</summary>
    /// <param name="markup">Source with <c>{|ID:text|}</c> spans.</param>
    /// <returns>The plain source and the expected diagnostics, in order.</returns>
    public static (string Source, IReadOnlyList<ExpectedDiagnostic> Expected) Parse(string markup)
    {
        var source = new StringBuilder();
        var expected = new List<ExpectedDiagnostic>();
        var last = 0;
        foreach (Match match in Span().Matches(markup))
        {
            source.Append(markup, last, match.Index - last);
            var text = match.Groups["text"].Value;
            expected.Add(new ExpectedDiagnostic(match.Groups["id"].Value, new TextSpan(source.Length, text.Length)));
            source.Append(text);
            last = match.Index + match.Length;
        }

        source.Append(markup, last, markup.Length - last);
        return (source.ToString(), expected);
    }

    /// <summary>Describes a span as <c>(line,col)-(line,col)</c>, 1-based, with the text it covers.</summary>
    /// <param name="text">The source.</param>
    /// <param name="span">The span.</param>
    /// <returns>The description.</returns>
    public static string Describe(SourceText text, TextSpan span)
    {
        var lines = text.Lines.GetLinePositionSpan(span);
        return $"({lines.Start.Line + 1},{lines.Start.Character + 1})-({lines.End.Line + 1},{lines.End.Character + 1}) '{text.ToString(span)}'";
    }

    /// <summary>Describes a diagnostic's location in its tree.</summary>
    /// <param name="diagnostic">The diagnostic.</param>
    /// <returns>The description.</returns>
    public static string Describe(Diagnostic diagnostic) =>
        diagnostic.Location.SourceTree is { } tree
            ? $"{diagnostic.Id} at {Describe(tree.GetText(), diagnostic.Location.SourceSpan)}"
            : $"{diagnostic.Id} at (no source location)";

    [GeneratedRegex(@"\{\|(?<id>[A-Za-z0-9]+):(?<text>.*?)\|\}", RegexOptions.Singleline)]
    private static partial Regex Span();
}
