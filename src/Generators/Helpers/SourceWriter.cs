using System;
using System.Text;
using Microsoft.CodeAnalysis.Text;

namespace NeuralOde.Generators.Helpers;

/// <summary>
/// Writes C# source with indentation (the shape of System.Text.Json's <c>SourceWriter</c>). Each line of a
/// multi-line string is indented on its own, so raw-string templates keep their relative layout, and lines
/// always end with <c>\n</c> so that generated files are byte-identical on every OS.
/// </summary>
internal sealed class SourceWriter
{
    private const int SpacesPerLevel = 4;

    private readonly StringBuilder _builder = new();
    private int _indentation;

    /// <summary>Gets or sets the indentation level (four spaces each).</summary>
    public int Indentation
    {
        get => _indentation;
        set
        {
            if (value < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(value));
            }

            _indentation = value;
        }
    }

    /// <summary>Writes an empty line (never indented, so no trailing whitespace).</summary>
    public void WriteLine() => _builder.Append('\n');

    /// <summary>
    /// Writes <paramref name="text"/> and a newline. Each of its lines is indented by the current level; empty
    /// lines stay empty.
    /// </summary>
    /// <param name="text">One line, or several separated by <c>\n</c> (a <c>\r</c> before it is dropped).</param>
    public void WriteLine(string text)
    {
        var start = 0;
        while (start <= text.Length)
        {
            var end = text.IndexOf('\n', start);
            if (end < 0)
            {
                end = text.Length;
            }

            var lineEnd = end > start && text[end - 1] == '\r' ? end - 1 : end;
            if (lineEnd > start)
            {
                _builder.Append(' ', _indentation * SpacesPerLevel);
                _builder.Append(text, start, lineEnd - start);
            }

            _builder.Append('\n');
            start = end + 1;
        }
    }

    /// <summary>Writes <paramref name="header"/> (if any) and an opening brace, then indents one level.</summary>
    /// <param name="header">The declaration line before the brace, or null.</param>
    public void OpenBlock(string? header = null)
    {
        if (header is not null)
        {
            WriteLine(header);
        }

        WriteLine("{");
        Indentation++;
    }

    /// <summary>Outdents one level and writes a closing brace with an optional suffix (such as <c>;</c>).</summary>
    /// <param name="suffix">Text after the brace.</param>
    public void CloseBlock(string suffix = "")
    {
        Indentation--;
        WriteLine("}" + suffix);
    }

    /// <summary>Returns the text written so far as UTF-8 source text.</summary>
    /// <returns>The source text.</returns>
    public SourceText ToSourceText() => SourceText.From(_builder.ToString(), Encoding.UTF8);

    /// <inheritdoc/>
    public override string ToString() => _builder.ToString();
}
