using System.Globalization;
using NeuralOde.Demo.Cli;
using Spectre.Console;
using Spectre.Console.Cli;

namespace NeuralOde.Demo.Commands;

/// <summary><c>schemes</c>: prints the registry of Runge–Kutta schemes.</summary>
/// <param name="console">Where to write.</param>
internal sealed class SchemesCommand(IAnsiConsole console) : Command<SchemesCommand.Settings>
{
    /// <summary>The command's description, shown by <c>--help</c>.</summary>
    public const string Description = "List the registered Runge–Kutta schemes: stages, orders, FSAL and dense output.";

    /// <summary>Runs the command.</summary>
    /// <param name="context">The command context.</param>
    /// <param name="settings">The settings (none).</param>
    /// <param name="cancellationToken">Not used.</param>
    /// <returns>0.</returns>
    /// <exception cref="InvalidOperationException">No scheme is registered (exit code 1).</exception>
    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var schemes = Schemes.All;
        if (schemes.Count == 0)
        {
            throw new InvalidOperationException("No Runge–Kutta scheme is registered: the NeuralOde library was built without its generated tableaux.");
        }

        var table = Output.Styled(new Table(), console)
            .AddColumn("Scheme")
            .AddColumn(new TableColumn("Stages").RightAligned())
            .AddColumn(new TableColumn("Order").RightAligned())
            .AddColumn(new TableColumn("Embedded order").RightAligned())
            .AddColumn(new TableColumn("Adaptive").Centered())
            .AddColumn(new TableColumn("FSAL").Centered())
            .AddColumn(new TableColumn("Dense output").Centered());
        foreach (var scheme in schemes)
        {
            table.AddRow(
                Markup.Escape(scheme.Name),
                scheme.Stages.ToString(CultureInfo.InvariantCulture),
                scheme.Order.ToString(CultureInfo.InvariantCulture),
                scheme.EmbeddedOrder?.ToString(CultureInfo.InvariantCulture) ?? "–",
                YesNo(scheme.HasErrorEstimate),
                YesNo(scheme.IsFsal),
                YesNo(scheme.HasDenseOutput));
        }

        console.Write(table);
        console.WriteLine($"{schemes.Count} schemes. Adaptive solves need an embedded order; the others take fixed steps.");
        return 0;
    }

    private static string YesNo(bool value) => value ? "yes" : "no";

    /// <summary>The <c>schemes</c> command takes no options.</summary>
    internal sealed class Settings : CommandSettings
    {
    }
}
