using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using NeuralOde.Demo.Analysis;
using NeuralOde.Demo.Cli;
using NeuralOde.Demo.Training;
using Spectre.Console;
using Spectre.Console.Cli;

namespace NeuralOde.Demo.Commands;

/// <summary>The options of the story (the command that runs without arguments).</summary>
internal sealed class StorySettings : TrainingSettings, IFigureSettings
{
    /// <inheritdoc />
    [CommandOption("-i|--index <N>")]
    [Description(FigureSettings.IndexHelp)]
    public string[] Index { get; set; } = [];

    /// <inheritdoc />
    [CommandOption("--samples <N>")]
    [Description(FigureSettings.SamplesHelp)]
    [DefaultValue(6)]
    public int Samples { get; set; } = 6;

    /// <inheritdoc />
    [CommandOption("--fit <N>")]
    [Description(FigureSettings.FitHelp)]
    [DefaultValue(1000)]
    public int Fit { get; set; } = 1000;

    /// <inheritdoc />
    [CommandOption("--times <N>")]
    [Description(FigureSettings.TimesHelp)]
    [DefaultValue(51)]
    public int Times { get; set; } = 51;

    /// <summary>Gets or sets the MLP's epochs.</summary>
    [CommandOption("--mlp-epochs <N>")]
    [Description("Epochs of the MLP baseline.")]
    [DefaultValue(StoryCommand.MlpEpochs)]
    public int MlpEpochs { get; set; } = StoryCommand.MlpEpochs;

    /// <summary>Gets or sets the ODE's epochs.</summary>
    [CommandOption("--ode-epochs <N>")]
    [Description("Epochs of the neural ODE.")]
    [DefaultValue(StoryCommand.OdeEpochs)]
    public int OdeEpochs { get; set; } = StoryCommand.OdeEpochs;

    /// <summary>Gets or sets whether to resume.</summary>
    [CommandOption("--resume")]
    [Description("Continue the story in --out: each model resumes from its last checkpoint (a finished model is not retrained).")]
    public bool Resume { get; set; }

    /// <inheritdoc />
    public override ValidationResult Validate()
    {
        if (this.Check() is { } error)
        {
            return ValidationResult.Error(error);
        }

        if (MlpEpochs < 1 || OdeEpochs < 1)
        {
            return ValidationResult.Error("--mlp-epochs and --ode-epochs must be at least 1.");
        }

        return Resume && Out is null ? ValidationResult.Error("--resume needs --out DIR: the folder of the story to continue.") : base.Validate();
    }
}

/// <summary>
/// The default command, the whole story: train the MLP baseline and the neural ODE (matching layers) on the data
/// set, draw the PCA figures of their hidden states and the training curves, and end with a metrics table and the
/// figures' paths.
/// </summary>
/// <param name="console">Where to write.</param>
internal sealed class StoryCommand(IAnsiConsole console) : Command<StorySettings>
{
    /// <summary>The MLP's default epochs.</summary>
    public const int MlpEpochs = 8;

    /// <summary>The ODE's default epochs.</summary>
    public const int OdeEpochs = 6;

    /// <summary>The command's description, shown by <c>--help</c>.</summary>
    public const string Description =
        "The whole story (what runs without arguments): train the MLP baseline and the neural ODE on MNIST (or --dataset fashion-mnist), " +
        "draw the PCA figures of their hidden states and the training curves, and print a metrics table and the figures' paths.";

    /// <summary>The epochs each model trains for by default.</summary>
    /// <param name="kind">The model.</param>
    /// <returns>The epochs.</returns>
    public static int DefaultEpochs(ModelKind kind) => kind == ModelKind.Ode ? OdeEpochs : MlpEpochs;

    /// <summary>Runs the command.</summary>
    /// <param name="context">The command context.</param>
    /// <param name="settings">The options.</param>
    /// <param name="cancellationToken">Stops training between batches.</param>
    /// <returns>0 on success, 130 when interrupted (failures are exceptions: see <see cref="ExitCodes"/>).</returns>
    public override int Execute(CommandContext context, StorySettings settings, CancellationToken cancellationToken) =>
        CommandErrors.Guard(() =>
        {
            var clock = Stopwatch.StartNew();
            var threads = DeviceChoice.ApplyThreads(settings.Threads);
            var device = DeviceChoice.Resolve(settings.Device, console);
            var folder = settings.OutputFolder("story");
            using var data = DataLoading.Open(settings, console, device, cancellationToken, settings.TrainLimit);
            var load = LoadAverage();
            console.WriteLine($"{data.Info.DisplayName} from {data.Folder}: {data.TrainCount:N0} training and {data.TestCount:N0} test images.");
            console.WriteLine($"Device {device.type.ToString().ToLowerInvariant()}, {threads} threads, load average {load}. Output: {folder}");

            var results = new List<(ModelKind Kind, TrainingOptions Options, TrainingResult Result)>();
            foreach (var (kind, epochs) in new[] { (ModelKind.Mlp, settings.MlpEpochs), (ModelKind.Ode, settings.OdeEpochs) })
            {
                var options = settings.ToOptions(kind, epochs);
                var label = kind.ToString().ToLowerInvariant();
                console.WriteLine($"{kind.ToString().ToUpperInvariant()}: {options.Model.Description}; {options.Describe()}.");
                var result = ProgressDisplay.Train(console, label, progress =>
                    Trainer.Run(options, data, Path.Combine(folder, label), settings.Resume, device, progress, cancellationToken));
                if (result.Interrupted)
                {
                    console.WriteLine($"Interrupted: continue with --out {folder} --resume (only the epoch in progress was lost).");
                    return CommandErrors.Interrupted;
                }

                if (result.ResumedFrom > 0)
                {
                    console.WriteLine($"{label}: Resumed after epoch {result.ResumedFrom} of {epochs}.");
                }

                results.Add((kind, options, result));
            }

            var figures = Visualizer.Run(Path.Combine(folder, "mlp"), Path.Combine(folder, "ode"), data, settings.ToVisualizeOptions(), Path.Combine(folder, "figures"));
            var total = clock.Elapsed;
            var table = Summary(results, console);
            console.Write(table);
            console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Total time {total.TotalMinutes:0.0} min ({total.TotalSeconds:0} s), load average now {LoadAverage()}."));
            console.WriteLine("Figures and coordinates:");
            foreach (var file in figures.Files)
            {
                console.WriteLine("  " + file);
            }

            MetricsFiles.WriteText(Path.Combine(folder, "summary.md"), SummaryMarkdown(data.Info.DisplayName, results, total, threads, load, figures.Files, folder));
            console.WriteLine($"Summary: {Path.Combine(folder, "summary.md")}");
            return 0;
        });

    private static Table Summary(IReadOnlyList<(ModelKind Kind, TrainingOptions Options, TrainingResult Result)> results, IAnsiConsole console)
    {
        var table = Output.Styled(new Table(), console)
            .AddColumn("Model")
            .AddColumn("Layers")
            .AddColumn(new TableColumn("Epochs").RightAligned())
            .AddColumn(new TableColumn("Test acc").RightAligned())
            .AddColumn(new TableColumn("Test loss").RightAligned())
            .AddColumn(new TableColumn("NFE / forward").RightAligned())
            .AddColumn(new TableColumn("s / epoch").RightAligned())
            .AddColumn(new TableColumn("Train time").RightAligned());
        foreach (var row in Rows(results))
        {
            table.AddRow(row.Select(Markup.Escape).ToArray());
        }

        return table;
    }

    private static IEnumerable<string[]> Rows(IReadOnlyList<(ModelKind Kind, TrainingOptions Options, TrainingResult Result)> results)
    {
        foreach (var (kind, options, result) in results)
        {
            var last = result.History[^1];
            var seconds = result.History.Sum(static m => m.EpochSeconds + m.EvalSeconds);
            yield return
            [
                kind.ToString().ToUpperInvariant(),
                options.Model.Description,
                last.Epoch.ToString(CultureInfo.InvariantCulture),
                MetricsTable.F(100 * last.TestAccuracy, "0.00") + "%",
                MetricsTable.F(last.TestLoss, "0.0000"),
                kind == ModelKind.Ode
                    ? MetricsTable.F(last.TestForwardNfe, "0.0") + " (train " + MetricsTable.F(last.ForwardNfe, "0.0") + ")"
                    : "1 (no solver)",
                MetricsTable.F(result.History.Average(static m => m.EpochSeconds), "0.0"),
                MetricsTable.F(seconds, "0") + " s",
            ];
        }
    }

    private static string SummaryMarkdown(string dataset, IReadOnlyList<(ModelKind Kind, TrainingOptions Options, TrainingResult Result)> results, TimeSpan total, int threads, string load, IReadOnlyList<string> files, string folder)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"# {dataset}: MLP vs neural ODE\n\n");
        text.Append(CultureInfo.InvariantCulture, $"{Environment.ProcessorCount} cores, {threads} libtorch threads, load average at start {load}; total {total.TotalSeconds:0} s.\n\n");
        text.Append("| Model | Layers | Epochs | Test acc | Test loss | NFE / forward | s / epoch | Train time |\n");
        text.Append("|---|---|---:|---:|---:|---:|---:|---:|\n");
        foreach (var row in Rows(results))
        {
            text.Append("| ").Append(string.Join(" | ", row)).Append(" |\n");
        }

        text.Append('\n');
        foreach (var file in files)
        {
            text.Append("- ").Append(Path.GetRelativePath(folder, file)).Append('\n');
        }

        return text.ToString();
    }

    private static string LoadAverage()
    {
        try
        {
            var fields = File.ReadAllText("/proc/loadavg").Split(' ');
            return string.Join(" ", fields.Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
        catch (UnauthorizedAccessException)
        {
            return "unknown";
        }
    }
}
