using System.ComponentModel;
using System.Globalization;
using NeuralOde.Demo.Analysis;
using NeuralOde.Demo.Cli;
using NeuralOde.Demo.Training;
using Spectre.Console;
using Spectre.Console.Cli;

namespace NeuralOde.Demo.Commands;

/// <summary>The options of <c>visualize</c> (and the figure options of the story).</summary>
internal class FigureSettings : TrainingSettings
{
    /// <summary>Gets or sets the highlighted inputs.</summary>
    [CommandOption("-i|--index <N>")]
    [Description("Test-set index of an input to highlight: repeat the option or separate with commas. Default: --samples random inputs (seeded by --seed).")]
    public string[] Index { get; set; } = [];

    /// <summary>Gets or sets the number of random inputs.</summary>
    [CommandOption("--samples <N>")]
    [Description("Random test inputs to highlight when no --index is given.")]
    [DefaultValue(6)]
    public int Samples { get; set; } = 6;

    /// <summary>Gets or sets the PCA's fitting set size.</summary>
    [CommandOption("--fit <N>")]
    [Description("Test inputs (the first N) whose hidden states the PCA is fitted on and that form the background clouds.")]
    [DefaultValue(1000)]
    public int Fit { get; set; } = 1000;

    /// <summary>Gets or sets the number of time points.</summary>
    [CommandOption("--times <N>")]
    [Description("Time points in [[0, 1]] at which the ODE's state is recorded (at least 50).")]
    [DefaultValue(51)]
    public int Times { get; set; } = 51;

    /// <summary>Gets the parsed indices.</summary>
    public IReadOnlyList<int> Indices => [.. Index
        .SelectMany(static s => s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        .Select(static s => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) ? i : throw new ArgumentException($"--index '{s}' is not a whole number."))];

    /// <summary>Builds the visualization options.</summary>
    /// <returns>The options.</returns>
    public VisualizeOptions ToVisualizeOptions() => new() { Indices = Indices, Samples = Samples, FitCount = Fit, Times = Times, Seed = Seed };

    /// <inheritdoc />
    public override ValidationResult Validate()
    {
        try
        {
            _ = Indices;
        }
        catch (ArgumentException error)
        {
            return ValidationResult.Error(error.Message);
        }

        if (Times < 50)
        {
            return ValidationResult.Error($"--times must be at least 50 (got {Times}).");
        }

        return Samples < 1 || Fit < 2 ? ValidationResult.Error("--samples must be at least 1 and --fit at least 2.") : base.Validate();
    }
}

/// <summary>The options of <c>visualize</c>.</summary>
internal sealed class VisualizeSettings : FigureSettings
{
    /// <summary>Gets or sets a story's folder.</summary>
    [CommandOption("-r|--run <DIR>")]
    [Description("Folder of a story run (holding mlp/ and ode/). Default: the newest runs/story-* folder under the current folder.")]
    public string? Run { get; set; }

    /// <summary>Gets or sets the MLP's run folder.</summary>
    [CommandOption("--mlp <DIR>")]
    [Description("Run folder of a trained MLP (from train --model mlp); overrides --run's.")]
    public string? Mlp { get; set; }

    /// <summary>Gets or sets the ODE's run folder.</summary>
    [CommandOption("--ode <DIR>")]
    [Description("Run folder of a trained neural ODE (from train --model ode); overrides --run's.")]
    public string? Ode { get; set; }
}

/// <summary><c>visualize</c>: PCA figures of trained models' hidden states.</summary>
/// <param name="console">Where to write.</param>
internal sealed class VisualizeCommand(IAnsiConsole console) : Command<VisualizeSettings>
{
    /// <summary>The command's description, shown by <c>--help</c>.</summary>
    public const string Description =
        "PCA of the hidden states of trained models: the MLP's layer by layer and the neural ODE's state at 50+ times from 0 to 1, " +
        "for chosen (--index) or random inputs, as PNG figures (plus the coordinates as CSV), and the training curves.";

    /// <summary>Runs the command.</summary>
    /// <param name="context">The command context.</param>
    /// <param name="settings">The options.</param>
    /// <param name="cancellationToken">Not used.</param>
    /// <returns>0 on success, 2 for bad arguments or missing runs or data.</returns>
    public override int Execute(CommandContext context, VisualizeSettings settings, CancellationToken cancellationToken) =>
        CommandErrors.Guard(() =>
        {
            DeviceChoice.ApplyThreads(settings.Threads);
            var device = DeviceChoice.Resolve(settings.Device, console);
            var run = settings.Run ?? (settings.Mlp is null && settings.Ode is null ? NewestStory() : null);
            var mlp = settings.Mlp ?? Existing(run, "mlp");
            var ode = settings.Ode ?? Existing(run, "ode");
            if (mlp is null && ode is null)
            {
                throw new ArgumentException(run is null
                    ? "No trained model given: use --run DIR (a story's folder), --mlp DIR or --ode DIR, or run the story first (no arguments)."
                    : $"{run} holds neither mlp/ nor ode/ with a trained model.");
            }

            if (settings.Dataset is null && (ode ?? mlp) is { } folder && File.Exists(Path.Combine(folder, "metrics.json")))
            {
                settings.Dataset = MetricsFiles.Read(folder).Options.Dataset;
            }

            var outFolder = Path.GetFullPath(settings.Out ?? (run is not null ? Path.Combine(run, "figures") : settings.OutputFolder("visualize")));
            using var data = DataLoading.Open(settings, console, device, cancellationToken);
            var result = Visualizer.Run(mlp, ode, data, settings.ToVisualizeOptions(), outFolder);
            console.WriteLine($"Highlighted test inputs: {string.Join(", ", result.Indices)}.");
            foreach (var file in result.Files)
            {
                console.WriteLine(file);
            }

            return 0;
        });

    private static string? Existing(string? run, string name) =>
        run is not null && File.Exists(Path.Combine(run, name, RunFolder.SpecFile)) ? Path.Combine(run, name) : null;

    private static string? NewestStory()
    {
        var runs = Path.GetFullPath("runs");
        return Directory.Exists(runs)
            ? Directory.GetDirectories(runs, "story-*").Where(static d => File.Exists(Path.Combine(d, "ode", RunFolder.SpecFile)) || File.Exists(Path.Combine(d, "mlp", RunFolder.SpecFile)))
                .OrderByDescending(static d => Directory.GetLastWriteTimeUtc(d)).FirstOrDefault()
            : null;
    }
}
