using Spectre.Console;

namespace NeuralOde.Demo.Cli;

/// <summary>
/// The consoles the commands write to. On a terminal: colours and rounded tables. When stdout is redirected (a
/// file, a pipe): no ANSI escape codes, a wide fixed width so that tables never wrap, and Markdown tables.
/// </summary>
internal static class Output
{
    /// <summary>The width used when stdout is not a terminal.</summary>
    public const int RedirectedWidth = 400;

    /// <summary>Creates the console for stdout.</summary>
    /// <returns>The console.</returns>
    public static IAnsiConsole CreateStdout()
    {
        if (!Console.IsOutputRedirected)
        {
            return AnsiConsole.Console;
        }

        var trimming = new TrimmingWriter(Console.Out);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => trimming.Flush();
        return CreatePlainUntrimmed(trimming);
    }

    /// <summary>Creates a console that writes plain text (no ANSI codes, no colours, wide) to a writer.</summary>
    /// <param name="writer">Where to write.</param>
    /// <returns>The console.</returns>
    public static IAnsiConsole CreatePlain(TextWriter writer) => CreatePlainUntrimmed(new TrimmingWriter(writer));

    private static IAnsiConsole CreatePlainUntrimmed(TextWriter writer)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(writer),
        });
        console.Profile.Width = RedirectedWidth;
        return console;
    }

    /// <summary>Gets whether a console is plain (no ANSI), so tables should use a Markdown border.</summary>
    /// <param name="console">The console.</param>
    /// <returns>Whether it is plain.</returns>
    public static bool IsPlain(IAnsiConsole console) => !console.Profile.Capabilities.Ansi;

    /// <summary>Gives a table the border that suits the console: Markdown when plain, rounded on a terminal.</summary>
    /// <param name="table">The table.</param>
    /// <param name="console">The console it will be written to.</param>
    /// <returns>The table.</returns>
    public static Table Styled(Table table, IAnsiConsole console)
    {
        ArgumentNullException.ThrowIfNull(table);
        return IsPlain(console) ? table.Border(TableBorder.Markdown) : table.Border(TableBorder.Rounded);
    }
}

/// <summary>
/// Passes text through line by line without trailing spaces: Spectre pads lines to the console width, which in a
/// file is only noise (and the fixed wide width of redirected output would make it a lot of noise).
/// </summary>
/// <param name="inner">The writer that receives the trimmed lines.</param>
internal sealed class TrimmingWriter(TextWriter inner) : TextWriter
{
    private readonly System.Text.StringBuilder line = new();

    /// <summary>Gets the inner writer's encoding.</summary>
    public override System.Text.Encoding Encoding => inner.Encoding;

    /// <summary>Buffers a character; a newline writes the buffered line without trailing spaces.</summary>
    /// <param name="value">The character.</param>
    public override void Write(char value)
    {
        if (value == '\n')
        {
            inner.Write(line.ToString().TrimEnd(' ', '\r'));
            inner.Write('\n');
            line.Clear();
        }
        else
        {
            line.Append(value);
        }
    }

    /// <summary>Writes a string character by character.</summary>
    /// <param name="value">The text.</param>
    public override void Write(string? value)
    {
        foreach (var c in value ?? "")
        {
            Write(c);
        }
    }

    /// <summary>Writes any unfinished line (trimmed) and flushes the inner writer.</summary>
    public override void Flush()
    {
        if (line.Length > 0)
        {
            inner.Write(line.ToString().TrimEnd(' '));
            line.Clear();
        }

        inner.Flush();
    }
}
