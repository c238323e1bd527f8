using System.ComponentModel;
using System.Globalization;
using NeuralOde.Demo.Analysis;
using NeuralOde.Demo.Cli;
using NeuralOde.Demo.Training;
using Spectre.Console;
using Spectre.Console.Cli;

namespace NeuralOde.Demo.Commands;

/// <summary>The figure options, declared by <c>visualize</c> and by the story.</summary>
internal interface IFigureSettings
{
    /// <summary>Gets the highlighted inputs, as given.</summary>
    string[] Index { get; }

    /// <summary>Gets the number of random inputs.</summary>
    int Samples { get; }

    /// <summary>Gets the PCA's fitting set size.</summary>
    int Fit { get; }

    /// <summary>Gets the number of time points.</summary>
    int Times { get; }

    /// <summary>Gets the seed of the random choice.</summary>
    int Seed { get; }
}

/// <summary>Parses and checks <see cref="IFigureSettings"/>.</summary>
internal static class FigureSettings
{
    /// <summary>The description of <c>--index</c>.</summary>
    public const string IndexHelp = "Test-set index of an input to highlight: repeat the option or separate with commas. Default: --samples random inputs (seeded by --seed).";

    /// <summary>The description of <c>--samples</c>.</summary>
    public const string SamplesHelp = "Random test inputs to highlight when no --index is given.";

    /// <summary>The description of <c>--fit</c>.</summary>
    public const string FitHelp = "Test inputs (the first N) whose hidden states the PCA is fitted on and that form the background clouds.";

    /// <summary>The description of <c>--times</c>.</summary>
    public const string TimesHelp = "Time points in [[0, 1]] at which the ODE's state is recorded (at least 50).";

    /// <summary>Gets the parsed indices.</summary>
    /// <param name="settings">The settings.</param>
    /// <returns>The indices.</returns>
    public static IReadOnlyList<int> Indices(this IFigureSettings settings) => [.. settings.Index
        .SelectMany(static s => s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        .Select(static s => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) ? i : throw new ArgumentException($"--index '{s}' is not a whole number."))];

    /// <summary>Builds the visualization options.</summary>
    /// <param name="settings">The settings.</param>
    /// <returns>The options.</returns>
    public static VisualizeOptions ToVisualizeOptions(this IFigureSettings settings) =>
        new() { Indices = settings.Indices(), Samples = settings.Samples, FitCount = settings.Fit, Times = settings.Times, Seed = settings.Seed };

    /// <summary>Checks the figure options.</summary>
    /// <param name="settings">The settings.</param>
    /// <returns>The error, or null.</returns>
    public static string? Check(this IFigureSettings settings)
    {
        try
        {
            _ = settings.Indices();
        }
        catch (ArgumentException error)
        {
            return error.Message;
        }

        if (settings.Times < 50)
        {
            return $"--times must be at least 50 (got {settings.Times}).";
        }

        return settings.Samples < 1 || settings.Fit < 2 ? "--samples must be at least 1 and --fit at least 2." : null;
    }
}

/// <summary>The options of <c>visualize</c>.</summary>
internal sealed class VisualizeSettings : DataSettings, IFigureSettings
{
    /// <summary>Gets or sets a story's folder.</summary>
    [CommandOption("-r|--run <DIR>")]
    [Description("Folder of a story run (holding mlp/ and ode/). Default: the newest runs/story-* folder under the current folder.")]
    public string? Run { get; set; }

    /// <summary>Gets or sets the MLP's run folder.</summary>
    [CommandOption("--mlp <DIR>")]
    [Description("Run folder of a trained MLP (from train --model mlp). Default: --run's mlp/.")]
    public string? Mlp { get; set; }

    /// <summary>Gets or sets the ODE's run folder.</summary>
    [CommandOption("--ode <DIR>")]
    [Description("Run folder of a trained neural ODE (from train --model ode). Default: --run's ode/.")]
    public string? Ode { get; set; }

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

    /// <inheritdoc />
    public override ValidationResult Validate() =>
        this.Check() is { } error ? ValidationResult.Error(error) : base.Validate();
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
    /// <returns>0 on success (failures are exceptions: see <see cref="ExitCodes"/>).</returns>
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
            using var data = DataLoading.Open(settings, console, device, cancellationToken, trainLimit: 1);
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
