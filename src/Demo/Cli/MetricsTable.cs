using System.Globalization;
using NeuralOde.Demo.Training;
using Spectre.Console;

namespace NeuralOde.Demo.Cli;

/// <summary>The metrics tables the commands print.</summary>
internal static class MetricsTable
{
    /// <summary>One row per epoch of a run.</summary>
    /// <param name="label">The model's label.</param>
    /// <param name="history">The epochs.</param>
    /// <param name="console">The console (for the border).</param>
    /// <returns>The table.</returns>
    public static Table ForEpochs(string label, IReadOnlyList<EpochMetrics> history, IAnsiConsole console)
    {
        ArgumentNullException.ThrowIfNull(history);
        var table = Output.Styled(new Table(), console)
            .AddColumn("Model")
            .AddColumn(new TableColumn("Epoch").RightAligned())
            .AddColumn(new TableColumn("Train loss").RightAligned())
            .AddColumn(new TableColumn("Train acc").RightAligned())
            .AddColumn(new TableColumn("Test loss").RightAligned())
            .AddColumn(new TableColumn("Test acc").RightAligned())
            .AddColumn(new TableColumn("NFE fwd").RightAligned())
            .AddColumn(new TableColumn("NFE bwd").RightAligned())
            .AddColumn(new TableColumn("Test NFE fwd").RightAligned())
            .AddColumn(new TableColumn("Epoch s").RightAligned());
        foreach (var m in history)
        {
            table.AddRow(
                Markup.Escape(label), I(m.Epoch), F(m.TrainLoss, "0.0000"), F(100 * m.TrainAccuracy, "0.00") + "%", F(m.TestLoss, "0.0000"),
                F(100 * m.TestAccuracy, "0.00") + "%", F(m.ForwardNfe, "0.0"), F(m.BackwardNfe, "0.0"), F(m.TestForwardNfe, "0.0"), F(m.EpochSeconds, "0.0"));
        }

        return table;
    }

    /// <summary>Formats a number invariantly.</summary>
    /// <param name="value">The value.</param>
    /// <param name="format">The format.</param>
    /// <returns>The text.</returns>
    public static string F(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);

    private static string I(int value) => value.ToString(CultureInfo.InvariantCulture);
}
