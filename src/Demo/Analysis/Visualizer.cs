using System.Globalization;
using System.Text;
using NeuralOde.Demo.Data;
using NeuralOde.Demo.Training;
using NeuralOde.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace NeuralOde.Demo.Analysis;

/// <summary>What <see cref="Visualizer"/> draws.</summary>
internal sealed record VisualizeOptions
{
    /// <summary>Gets the test-set indices to highlight; empty for <see cref="Samples"/> random ones.</summary>
    public IReadOnlyList<int> Indices { get; init; } = [];

    /// <summary>Gets how many random test inputs to highlight when no index is given.</summary>
    public int Samples { get; init; } = 6;

    /// <summary>Gets how many test inputs the PCA is fitted on (the first N).</summary>
    public int FitCount { get; init; } = 1000;

    /// <summary>Gets the number of time points of the ODE trajectories (at least 50).</summary>
    public int Times { get; init; } = 51;

    /// <summary>Gets the seed of the random choice of inputs.</summary>
    public int Seed { get; init; } = 1;
}

/// <summary>The files a visualization wrote.</summary>
/// <param name="Files">Every file written, figures first.</param>
/// <param name="Indices">The highlighted test inputs.</param>
internal sealed record VisualizeResult(IReadOnlyList<string> Files, IReadOnlyList<int> Indices);

/// <summary>
/// PCA pictures of the hidden states: the MLP's states layer by layer (one PCA per layer, plus the path from
/// <c>h₀</c> to the body's output in a PCA shared by both), and the neural ODE's state along its trajectory at
/// many time points (one PCA fitted on the states of many inputs at every time). Writes PNG figures and the chosen
/// inputs' PCA coordinates as CSV, each atomically; and the training curves when both runs have metrics.
/// </summary>
internal static class Visualizer
{
    /// <summary>The ODE figure's file name.</summary>
    public const string OdeFigure = "ode-trajectories.png";

    /// <summary>The ODE coordinates' file name.</summary>
    public const string OdeCsv = "ode-pca.csv";

    /// <summary>The MLP figure's file name.</summary>
    public const string MlpFigure = "mlp-layers.png";

    /// <summary>The MLP coordinates' file name.</summary>
    public const string MlpCsv = "mlp-pca.csv";

    /// <summary>The training curves' file name.</summary>
    public const string CurvesFigure = "training-curves.png";

    /// <summary>Draws the figures of the given runs.</summary>
    /// <param name="mlpFolder">The MLP's run folder, or null.</param>
    /// <param name="odeFolder">The ODE's run folder, or null.</param>
    /// <param name="data">The data set (its test images are used).</param>
    /// <param name="options">What to draw.</param>
    /// <param name="outFolder">Where to write.</param>
    /// <returns>The files written.</returns>
    public static VisualizeResult Run(string? mlpFolder, string? odeFolder, Dataset data, VisualizeOptions options, string outFolder)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(options);
        if (mlpFolder is null && odeFolder is null)
        {
            throw new ArgumentException("Nothing to visualize: give the run folder of the MLP, of the ODE, or of a story (with mlp/ and ode/).");
        }

        if (options.Times < 50)
        {
            throw new ArgumentException($"--times must be at least 50 (got {options.Times}).");
        }

        var indices = ChooseIndices(options, data.TestCount);
        var fitCount = Math.Min(options.FitCount, data.TestCount);
        Directory.CreateDirectory(outFolder);
        var files = new List<string>();
        using var fitImages = data.TestImages.narrow(0, 0, fitCount);
        var fitLabels = Labels(data.TestLabels.narrow(0, 0, fitCount));
        using var chosenIndex = tensor(indices.Select(static i => (long)i).ToArray(), ScalarType.Int64, data.TestImages.device);
        using var chosenImages = data.TestImages.index_select(0, chosenIndex);
        var chosenLabels = Labels(data.TestLabels.index_select(0, chosenIndex));

        if (mlpFolder is not null)
        {
            var (spec, model) = RunFolder.LoadModel(mlpFolder);
            using (model)
            {
                model.to(data.TestImages.device);
                if (model is not MlpClassifier mlp)
                {
                    throw new ArgumentException($"{mlpFolder} holds a {spec.Kind} model, not the MLP.");
                }

                files.AddRange(DrawMlp(mlp, spec, fitImages, fitLabels, chosenImages, chosenLabels, indices, data.Info, outFolder));
            }
        }

        if (odeFolder is not null)
        {
            var (spec, model) = RunFolder.LoadModel(odeFolder);
            using (model)
            {
                model.to(data.TestImages.device);
                if (model is not OdeClassifier ode)
                {
                    throw new ArgumentException($"{odeFolder} holds a {spec.Kind} model, not the neural ODE.");
                }

                files.AddRange(DrawOde(ode, fitImages, fitLabels, chosenImages, chosenLabels, indices, options.Times, data.Info, outFolder));
            }
        }

        var runs = new List<(string, IReadOnlyList<EpochMetrics>)>();
        foreach (var (label, folder) in new[] { ("MLP", mlpFolder), ("ODE", odeFolder) })
        {
            if (folder is not null && File.Exists(Path.Combine(folder, "metrics.json")))
            {
                runs.Add((label, MetricsFiles.Read(folder).Epochs));
            }
        }

        if (runs.Count > 0)
        {
            var path = Path.Combine(outFolder, CurvesFigure);
            WriteBytes(path, Figures.TrainingCurves(runs, data.Info.DisplayName));
            files.Insert(0, path);
        }

        return new VisualizeResult(files, indices);
    }

    /// <summary>Picks the highlighted inputs: the given indices (checked), or distinct seeded random ones.</summary>
    /// <param name="options">The options.</param>
    /// <param name="count">The test set's size.</param>
    /// <returns>The indices.</returns>
    public static int[] ChooseIndices(VisualizeOptions options, int count)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Indices.Count > 0)
        {
            foreach (var index in options.Indices)
            {
                if (index < 0 || index >= count)
                {
                    throw new ArgumentException($"--index {index} is outside the test set (0..{count - 1}).");
                }
            }

            return [.. options.Indices.Distinct()];
        }

        var random = new Random(options.Seed);
        var chosen = new List<int>();
        while (chosen.Count < Math.Min(options.Samples, count))
        {
            var candidate = random.Next(count);
            if (!chosen.Contains(candidate))
            {
                chosen.Add(candidate);
            }
        }

        return [.. chosen];
    }

    private static string[] DrawMlp(MlpClassifier model, ModelSpec spec, Tensor fitImages, int[] fitLabels, Tensor chosenImages, int[] chosenLabels, int[] indices, DatasetInfo info, string outFolder)
    {
        using var scope = NewDisposeScope();
        var fit = HiddenStates.Mlp(model, spec.Activation, fitImages);
        var chosen = HiddenStates.Mlp(model, spec.Activation, chosenImages);
        var predicted = Predict(model, chosenImages);
        var panels = new List<PcaPanel>();
        var csv = new StringBuilder("index,label,predicted,panel,layer,layer_name,pc1,pc2\n");
        for (var layer = 0; layer < fit.Count; layer++)
        {
            using var pca = Pca.Fit(fit[layer].States);
            var (cx, cy) = pca.Project2(fit[layer].States);
            var (px, py) = pca.Project2(chosen[layer].States);
            var highlights = indices.Select((index, k) => new Highlight(index, chosenLabels[k], predicted[k], [px[k]], [py[k]])).ToList();
            panels.Add(new PcaPanel(
                $"MLP layer {layer}: {fit[layer].Name}", Axis(1, pca), Axis(2, pca), new Cloud(cx, cy, fitLabels), "test inputs", highlights));
            for (var k = 0; k < indices.Length; k++)
            {
                csv.Append(Row(indices[k], chosenLabels[k], predicted[k], "layer", layer, fit[layer].Name, px[k], py[k]));
            }
        }

        // The path through every layer of h0's size (h0, the hidden layers when the width equals the hidden size, the
        // body output) in one PCA fitted on all of them: the MLP's few jagged points, like the ODE's trajectory.
        var size = fit[0].States.shape[1];
        var onPath = Enumerable.Range(0, fit.Count).Where(l => fit[l].States.shape[1] == size).ToArray();
        using (var joint = Pca.Fit(cat(onPath.Select(l => fit[l].States).ToList(), 0)))
        {
            var (cx, cy) = joint.Project2(fit[^1].States);
            var points = onPath.Select(l => joint.Project2(chosen[l].States)).ToArray();
            var highlights = indices.Select((index, k) => new Highlight(
                index, chosenLabels[k], predicted[k], [.. points.Select(p => p.Item1[k])], [.. points.Select(p => p.Item2[k])])).ToList();
            var title = onPath.Length == fit.Count
                ? "MLP path through all layers (one PCA for all)"
                : $"MLP path through the layers of size {size} (one PCA for them)";
            panels.Add(new PcaPanel(title, Axis(1, joint), Axis(2, joint), new Cloud(cx, cy, fitLabels), "body output", highlights));
            for (var k = 0; k < indices.Length; k++)
            {
                for (var p = 0; p < onPath.Length; p++)
                {
                    csv.Append(Row(indices[k], chosenLabels[k], predicted[k], "joint", onPath[p], fit[onPath[p]].Name, points[p].Item1[k], points[p].Item2[k]));
                }
            }
        }

        var figure = Path.Combine(outFolder, MlpFigure);
        var table = Path.Combine(outFolder, MlpCsv);
        WriteBytes(figure, Figures.PcaFigure(panels, info.ClassNames, 470, 460));
        MetricsFiles.WriteText(table, csv.ToString());
        return [figure, table];
    }

    private static string[] DrawOde(OdeClassifier model, Tensor fitImages, int[] fitLabels, Tensor chosenImages, int[] chosenLabels, int[] indices, int timeCount, DatasetInfo info, string outFolder)
    {
        using var scope = NewDisposeScope();
        var times = HiddenStates.Times(timeCount);
        var fit = HiddenStates.OdeTrajectory(model, fitImages, times);
        var chosen = HiddenStates.OdeTrajectory(model, chosenImages, times);
        var predicted = Predict(model, chosenImages);
        var dim = fit.shape[2];
        using var pca = Pca.Fit(fit.reshape(-1, dim));
        var (cx, cy) = pca.Project2(fit.select(1, timeCount - 1));
        var (px, py) = pca.Project2(chosen.reshape(-1, dim));
        var csv = new StringBuilder("index,label,predicted,t,pc1,pc2\n");
        var highlights = new List<Highlight>();
        for (var k = 0; k < indices.Length; k++)
        {
            var xs = px.AsSpan(k * timeCount, timeCount).ToArray();
            var ys = py.AsSpan(k * timeCount, timeCount).ToArray();
            highlights.Add(new Highlight(indices[k], chosenLabels[k], predicted[k], xs, ys));
            for (var t = 0; t < timeCount; t++)
            {
                csv.Append(string.Create(CultureInfo.InvariantCulture, $"{indices[k]},{chosenLabels[k]},{predicted[k]},{times[t]:R},{xs[t]:R},{ys[t]:R}\n"));
            }
        }

        var panel = new PcaPanel(
            $"Neural ODE: state h(t) at {timeCount} times in [0, 1] (one PCA over all times)",
            Axis(1, pca),
            Axis(2, pca),
            new Cloud(cx, cy, fitLabels),
            "h(1)",
            highlights);
        var figure = Path.Combine(outFolder, OdeFigure);
        var table = Path.Combine(outFolder, OdeCsv);
        WriteBytes(figure, Figures.PcaFigure([panel], info.ClassNames, 1000, 720));
        MetricsFiles.WriteText(table, csv.ToString());
        return [figure, table];
    }

    private static int[] Predict(nn.Module<Tensor, Tensor> model, Tensor images)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        return Labels(model.call(images).argmax(1));
    }

    private static int[] Labels(Tensor labels)
    {
        using var scope = NewDisposeScope();
        return [.. labels.to(ScalarType.Int64, CPU).data<long>().Select(static l => (int)l)];
    }

    private static string Axis(int component, Pca pca) =>
        string.Create(CultureInfo.InvariantCulture, $"PC{component} ({100 * pca.ExplainedVarianceRatio[component - 1]:0.0}% of the variance)");

    private static string Row(int index, int label, int predicted, string panel, int layer, string name, double x, double y) =>
        string.Create(CultureInfo.InvariantCulture, $"{index},{label},{predicted},{panel},{layer},\"{name}\",{x:R},{y:R}\n");

    private static void WriteBytes(string path, byte[] bytes) =>
        Checkpoint.WriteAtomically(path, stream => stream.Write(bytes));
}
