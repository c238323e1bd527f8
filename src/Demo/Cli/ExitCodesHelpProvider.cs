using Spectre.Console;
using Spectre.Console.Cli;
using Spectre.Console.Cli.Help;
using Spectre.Console.Rendering;

namespace NeuralOde.Demo.Cli;

/// <summary>Spectre's help, with an EXIT CODES section at the end of every command's help.</summary>
/// <param name="settings">The application's settings.</param>
internal sealed class ExitCodesHelpProvider(ICommandAppSettings settings) : HelpProvider(settings)
{
    /// <summary>Writes the exit codes after the commands.</summary>
    /// <param name="model">The command model.</param>
    /// <param name="command">The command whose help is shown, or null for the root.</param>
    /// <returns>The footer.</returns>
    public override IEnumerable<IRenderable> GetFooter(ICommandModel model, ICommandInfo? command)
    {
        var grid = new Grid().AddColumn(new GridColumn().PadLeft(4)).AddColumn(new GridColumn().PadLeft(2));
        foreach (var (code, meaning) in ExitCodes.Meanings)
        {
            grid.AddRow(new Text(code.ToString(System.Globalization.CultureInfo.InvariantCulture)), new Text(meaning));
        }

        return [.. base.GetFooter(model, command), new Text(Environment.NewLine), new Markup("[yellow]EXIT CODES:[/]" + Environment.NewLine), grid];
    }
}
