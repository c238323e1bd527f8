using System.Globalization;
using NeuralOde.Demo.Training;
using ScottPlot;

namespace NeuralOde.Demo.Analysis;

/// <summary>Background points of a PCA panel: many inputs, coloured by class.</summary>
/// <param name="X">PC1 of each point.</param>
/// <param name="Y">PC2 of each point.</param>
/// <param name="Labels">Each point's class.</param>
internal sealed record Cloud(double[] X, double[] Y, int[] Labels);

/// <summary>A chosen input drawn on a PCA panel: one point, or a path from its start to its end.</summary>
/// <param name="Index">Its index in the test set.</param>
/// <param name="Label">Its true class.</param>
/// <param name="Predicted">The model's prediction.</param>
/// <param name="X">PC1 along the path.</param>
/// <param name="Y">PC2 along the path.</param>
internal sealed record Highlight(int Index, int Label, int Predicted, double[] X, double[] Y);

/// <summary>One panel of a PCA figure.</summary>
/// <param name="Title">The title.</param>
/// <param name="XLabel">The horizontal axis' label.</param>
/// <param name="YLabel">The vertical axis' label.</param>
/// <param name="Cloud">The background points.</param>
/// <param name="CloudLegend">What the background points are (the legend's suffix).</param>
/// <param name="Highlights">The chosen inputs.</param>
internal sealed record PcaPanel(string Title, string XLabel, string YLabel, Cloud Cloud, string CloudLegend, IReadOnlyList<Highlight> Highlights);

/// <summary>Renders the demo's figures as PNG bytes with ScottPlot.</summary>
internal static class Figures
{
    private static readonly Color[] ClassColors = new ScottPlot.Palettes.Category10().Colors;

    /// <summary>Renders panels side by side (or in a grid when there are many).</summary>
    /// <param name="panels">The panels.</param>
    /// <param name="classNames">The class names (legend).</param>
    /// <param name="panelWidth">Pixels per panel horizontally.</param>
    /// <param name="panelHeight">Pixels per panel vertically.</param>
    /// <returns>The PNG bytes.</returns>
    public static byte[] PcaFigure(IReadOnlyList<PcaPanel> panels, IReadOnlyList<string> classNames, int panelWidth = 560, int panelHeight = 520)
    {
        ArgumentNullException.ThrowIfNull(panels);
        ArgumentNullException.ThrowIfNull(classNames);
        var plots = new List<Plot>();
        for (var i = 0; i < panels.Count; i++)
        {
            var plot = new Plot();
            Draw(plot, panels[i], classNames, legend: i == panels.Count - 1);
            plots.Add(plot);
        }

        return Render(plots, panelWidth, panelHeight, lastHasLegend: true);
    }

    /// <summary>Renders the training curves of both models: test accuracy per epoch and forward NFE per epoch.</summary>
    /// <param name="runs">Each model's label and metrics.</param>
    /// <param name="title">The dataset's name for the titles.</param>
    /// <returns>The PNG bytes.</returns>
    public static byte[] TrainingCurves(IReadOnlyList<(string Label, IReadOnlyList<EpochMetrics> History)> runs, string title)
    {
        ArgumentNullException.ThrowIfNull(runs);
        var accuracy = new Plot();
        var nfe = new Plot();
        var palette = new ScottPlot.Palettes.Category10().Colors;
        for (var r = 0; r < runs.Count; r++)
        {
            var (label, history) = runs[r];
            var epochs = history.Select(static m => (double)m.Epoch).ToArray();
            var color = palette[r % palette.Length];

            var test = accuracy.Add.Scatter(epochs, history.Select(static m => 100 * m.TestAccuracy).ToArray(), color);
            test.LegendText = $"{label} test";
            test.LineWidth = 2;
            test.MarkerSize = 7;
            var train = accuracy.Add.Scatter(epochs, history.Select(static m => 100 * m.TrainAccuracy).ToArray(), color);
            train.LegendText = $"{label} train";
            train.LinePattern = LinePattern.Dashed;
            train.MarkerSize = 4;

            var forward = nfe.Add.Scatter(epochs, history.Select(static m => m.ForwardNfe).ToArray(), color);
            forward.LegendText = $"{label} forward (train batch)";
            forward.LineWidth = 2;
            forward.MarkerSize = 7;
            var testNfe = nfe.Add.Scatter(epochs, history.Select(static m => m.TestForwardNfe).ToArray(), color);
            testNfe.LegendText = $"{label} forward (test batch)";
            testNfe.LinePattern = LinePattern.Dotted;
            testNfe.MarkerSize = 4;
            if (history.Any(static m => m.BackwardNfe > 0))
            {
                var backward = nfe.Add.Scatter(epochs, history.Select(static m => m.BackwardNfe).ToArray(), color);
                backward.LegendText = $"{label} backward (adjoint)";
                backward.LinePattern = LinePattern.Dashed;
            }
        }

        accuracy.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        nfe.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        accuracy.Title($"{title}: accuracy per epoch");
        accuracy.XLabel("epoch");
        accuracy.YLabel("accuracy (%)");
        accuracy.ShowLegend(Alignment.LowerRight);
        nfe.Title($"{title}: function evaluations per forward pass");
        nfe.XLabel("epoch");
        nfe.YLabel("NFE (calls of the dynamics; MLP = 1)");
        nfe.Axes.SetLimitsY(0, Math.Max(2, runs.SelectMany(static r => r.History).Select(static m => Math.Max(m.ForwardNfe, Math.Max(m.TestForwardNfe, m.BackwardNfe))).DefaultIfEmpty(1).Max() * 1.15));
        nfe.ShowLegend(Alignment.LowerRight);
        return Render([accuracy, nfe], 640, 480);
    }

    private static void Draw(Plot plot, PcaPanel panel, IReadOnlyList<string> classNames, bool legend)
    {
        plot.Title(panel.Title, 13);
        plot.XLabel(panel.XLabel, 12);
        plot.YLabel(panel.YLabel, 12);
        for (var c = 0; c < classNames.Count; c++)
        {
            var xs = new List<double>();
            var ys = new List<double>();
            for (var i = 0; i < panel.Cloud.Labels.Length; i++)
            {
                if (panel.Cloud.Labels[i] == c)
                {
                    xs.Add(panel.Cloud.X[i]);
                    ys.Add(panel.Cloud.Y[i]);
                }
            }

            var points = plot.Add.ScatterPoints(xs.ToArray(), ys.ToArray(), ClassColors[c % ClassColors.Length].WithAlpha(0.35));
            points.MarkerSize = 3.5f;
            points.LegendText = legend ? $"{classNames[c]} ({panel.CloudLegend})" : "";
        }

        var first = true;
        foreach (var item in panel.Highlights)
        {
            var color = ClassColors[item.Label % ClassColors.Length];
            var last = item.X.Length - 1;
            if (last > 0)
            {
                var path = plot.Add.Scatter(item.X, item.Y, Colors.Black.WithAlpha(0.85));
                path.LineWidth = 2;
                path.MarkerSize = 0;
                path.LegendText = legend && first ? "path of a chosen input" : "";
                var start = plot.Add.Marker(item.X[0], item.Y[0], MarkerShape.OpenCircle, 13, Colors.Black);
                start.LegendText = legend && first ? "start" : "";
            }

            var end = plot.Add.Marker(item.X[last], item.Y[last], MarkerShape.FilledSquare, 11, color);
            end.LegendText = legend && first ? (last > 0 ? "end (colour: true class)" : "chosen input (colour: true class)") : "";
            var outline = plot.Add.Marker(item.X[last], item.Y[last], MarkerShape.OpenSquare, 11, Colors.Black);
            outline.LegendText = "";
            var text = plot.Add.Text(
                string.Create(CultureInfo.InvariantCulture, $"#{item.Index}: {classNames[item.Label]}{(item.Predicted != item.Label ? " → " + classNames[item.Predicted] : "")}"),
                item.X[last],
                item.Y[last]);
            text.LabelFontSize = 11;
            text.LabelBold = true;
            text.OffsetX = 7;
            text.OffsetY = -7;
            first = false;
        }

        if (legend)
        {
            // Outside the data area, to the right, so that it never hides points.
            plot.ShowLegend(Edge.Right);
            plot.Legend.FontSize = 11;
        }
    }

    private static byte[] Render(IReadOnlyList<Plot> plots, int panelWidth, int panelHeight, bool lastHasLegend = false)
    {
        // The legend sits outside the last panel's data area: that panel gets a quarter of a panel more width.
        const int Quarters = 4;
        var extra = lastHasLegend ? 1 : 0;
        if (plots.Count == 1)
        {
            return plots[0].GetImageBytes(panelWidth * (Quarters + extra) / Quarters, panelHeight, ImageFormat.Png);
        }

        var columns = (Quarters * plots.Count) + extra;
        var layout = new ScottPlot.MultiplotLayouts.CustomGrid();
        var multiplot = new Multiplot(plots[0]);
        foreach (var plot in plots.Skip(1))
        {
            multiplot.AddPlot(plot);
        }

        if (multiplot.Subplots.Count != plots.Count)
        {
            throw new InvalidOperationException($"The multiplot holds {multiplot.Subplots.Count} plots instead of {plots.Count}.");
        }

        for (var i = 0; i < plots.Count; i++)
        {
            var span = Quarters + (i == plots.Count - 1 ? extra : 0);
            layout.Set(plots[i], new GridCell(0, Quarters * i, 1, columns, 1, span));
        }

        multiplot.Layout = layout;
        using var image = multiplot.Render(panelWidth * columns / Quarters, panelHeight);
        return image.GetImageBytes(ImageFormat.Png, 100);
    }
}
