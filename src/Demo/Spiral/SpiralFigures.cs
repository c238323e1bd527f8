using System.Numerics;
using ScottPlot;

namespace NeuralOde.Demo.Spiral;

/// <summary>The spiral demo's figures as PNG bytes (ScottPlot): trajectories, vector field, loss curve.</summary>
internal static class SpiralFigures
{
    /// <summary>The trajectories figure's file name.</summary>
    public const string TrajectoriesFile = "spiral-trajectories.png";

    /// <summary>The vector field figure's file name.</summary>
    public const string VectorFieldFile = "spiral-vector-field.png";

    /// <summary>The loss curve figure's file name.</summary>
    public const string LossFile = "spiral-loss.png";

    private static readonly Color TrueColor = Colors.Green;
    private static readonly Color LearnedColor = Colors.Blue;

    /// <summary>x(t) and y(t), true and learned, beside the phase portrait of both.</summary>
    /// <param name="result">The training's result.</param>
    /// <returns>The PNG bytes.</returns>
    public static byte[] Trajectories(SpiralResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var series = new Plot();
        AddLine(series, result.Times, [.. result.TrueStates.Select(static s => s.X)], TrueColor, "true x", dashed: false);
        AddLine(series, result.Times, [.. result.TrueStates.Select(static s => s.Y)], Colors.DarkOrange, "true y", dashed: false);
        AddLine(series, result.Times, [.. result.LearnedStates.Select(static s => s.X)], LearnedColor, "learned x", dashed: true);
        AddLine(series, result.Times, [.. result.LearnedStates.Select(static s => s.Y)], Colors.Purple, "learned y", dashed: true);
        series.Title("Trajectories");
        series.XLabel("t");
        series.YLabel("x, y");
        series.Axes.SetLimits(result.Times[0], result.Times[^1], -2.2, 2.2);
        series.ShowLegend(Alignment.LowerRight);

        var phase = new Plot();
        AddLine(phase, [.. result.TrueStates.Select(static s => s.X)], [.. result.TrueStates.Select(static s => s.Y)], TrueColor, "true", dashed: false);
        AddLine(phase, [.. result.LearnedStates.Select(static s => s.X)], [.. result.LearnedStates.Select(static s => s.Y)], LearnedColor, "learned", dashed: true);
        phase.Title("Phase portrait");
        phase.XLabel("x");
        phase.YLabel("y");
        phase.Axes.SetLimits(-2.2, 2.2, -2.2, 2.2);
        phase.ShowLegend(Alignment.LowerRight);

        return SideBySide(series, phase, 720, 480, 520);
    }

    /// <summary>The learned vector field (unit arrows, as ode_demo's stream plot normalizes) with the learned trajectory.</summary>
    /// <param name="result">The training's result.</param>
    /// <returns>The PNG bytes.</returns>
    public static byte[] VectorField(SpiralResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var plot = new Plot();
        var vectors = result.VectorField
            .Select(static p =>
            {
                var length = Math.Max(Math.Sqrt((p.U * p.U) + (p.V * p.V)), 1e-12);
                return new RootedCoordinateVector(new Coordinates(p.X, p.Y), new Vector2((float)(p.U / length), (float)(p.V / length)));
            })
            .ToList();
        var field = plot.Add.VectorField(vectors);
        field.ArrowStyle.LineStyle.Color = Colors.Gray;
        AddLine(plot, [.. result.TrueStates.Select(static s => s.X)], [.. result.TrueStates.Select(static s => s.Y)], TrueColor, "true trajectory", dashed: false);
        AddLine(plot, [.. result.LearnedStates.Select(static s => s.X)], [.. result.LearnedStates.Select(static s => s.Y)], LearnedColor, "learned trajectory", dashed: true);
        plot.Title("Learned vector field (directions)");
        plot.XLabel("x");
        plot.YLabel("y");
        plot.Axes.SetLimits(-2.2, 2.2, -2.2, 2.2);
        plot.ShowLegend(Alignment.LowerRight);
        return plot.GetImageBytes(560, 520, ImageFormat.Png);
    }

    /// <summary>The batch loss of every iteration and the loss over the whole trajectory.</summary>
    /// <param name="result">The training's result.</param>
    /// <returns>The PNG bytes.</returns>
    public static byte[] Loss(SpiralResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var plot = new Plot();
        var iterations = Enumerable.Range(1, result.TrainLoss.Count).Select(static i => (double)i).ToArray();
        var batch = plot.Add.ScatterLine(iterations, result.TrainLoss.ToArray(), Colors.Gray.WithAlpha(0.6));
        batch.LegendText = "batch loss (10-point windows)";
        var total = plot.Add.Scatter(
            result.TotalLoss.Select(static l => (double)l.Iteration).ToArray(),
            result.TotalLoss.Select(static l => l.Loss).ToArray(),
            LearnedColor);
        total.LegendText = "loss over the whole trajectory";
        total.LineWidth = 2;
        total.MarkerSize = 4;
        plot.Title("Training: mean |learned − true|");
        plot.XLabel("iteration");
        plot.YLabel("loss");
        plot.Axes.SetLimitsY(0, Math.Max(result.TrainLoss.DefaultIfEmpty(0).Max(), result.TotalLoss.Select(static l => l.Loss).DefaultIfEmpty(0).Max()) * 1.05);
        plot.ShowLegend(Alignment.UpperRight);
        return plot.GetImageBytes(720, 480, ImageFormat.Png);
    }

    private static void AddLine(Plot plot, double[] xs, double[] ys, Color color, string label, bool dashed)
    {
        var line = plot.Add.ScatterLine(xs, ys, color);
        line.LegendText = label;
        line.LineWidth = 2;
        if (dashed)
        {
            line.LinePattern = LinePattern.Dashed;
        }
    }

    private static byte[] SideBySide(Plot left, Plot right, int leftWidth, int rightWidth, int height)
    {
        var multiplot = new Multiplot(left);
        multiplot.AddPlot(right);
        var layout = new ScottPlot.MultiplotLayouts.CustomGrid();
        var columns = leftWidth + rightWidth;
        layout.Set(left, new GridCell(0, 0, 1, columns, 1, leftWidth));
        layout.Set(right, new GridCell(0, leftWidth, 1, columns, 1, rightWidth));
        multiplot.Layout = layout;
        using var image = multiplot.Render(columns, height);
        return image.GetImageBytes(ImageFormat.Png, 100);
    }
}
