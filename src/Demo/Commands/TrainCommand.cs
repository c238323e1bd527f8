using System.ComponentModel;
using NeuralOde.Demo.Cli;
using NeuralOde.Demo.Data;
using NeuralOde.Demo.Training;
using NeuralOde.Solving;
using Spectre.Console;
using Spectre.Console.Cli;
using static TorchSharp.torch;

namespace NeuralOde.Demo.Commands;

/// <summary>The options of <c>train</c>.</summary>
internal sealed class TrainSettings : TrainingSettings
{
    /// <summary>Gets or sets the model.</summary>
    [CommandOption("-m|--model <MODEL>")]
    [Description("ode (the neural ODE) or mlp (the baseline with matching layers).")]
    [DefaultValue("ode")]
    public string Model { get; set; } = "ode";

    /// <summary>Gets or sets the epochs.</summary>
    [CommandOption("-e|--epochs <N>")]
    [Description("Epochs to reach. Default: the story's (ode 6, mlp 8). With --resume, the run continues up to N.")]
    public int? Epochs { get; set; }

    /// <summary>Gets or sets whether to resume.</summary>
    [CommandOption("--resume")]
    [Description("Continue the run in --out from its last checkpoint (written after every epoch): only the epoch in progress when it stopped is lost; the result equals an uninterrupted run with the same seed on the CPU.")]
    public bool Resume { get; set; }

    /// <summary>Gets the model kind.</summary>
    public ModelKind Kind => Model.Trim().ToLowerInvariant() switch
    {
        "ode" => ModelKind.Ode,
        "mlp" => ModelKind.Mlp,
        _ => throw new ArgumentException($"Unknown --model '{Model}': use ode or mlp."),
    };

    /// <inheritdoc />
    public override ValidationResult Validate()
    {
        try
        {
            _ = Kind;
        }
        catch (ArgumentException error)
        {
            return ValidationResult.Error(error.Message);
        }

        if (Resume && Out is null)
        {
            return ValidationResult.Error("--resume needs --out DIR: the folder of the run to continue.");
        }

        return Epochs is < 1 ? ValidationResult.Error("--epochs must be at least 1.") : base.Validate();
    }
}

/// <summary><c>train</c>: trains one model, with per-epoch metrics and checkpoints.</summary>
/// <param name="console">Where to write.</param>
internal sealed class TrainCommand(IAnsiConsole console) : Command<TrainSettings>
{
    /// <summary>The command's description, shown by <c>--help</c>.</summary>
    public const string Description =
        "Train the neural ODE or the MLP baseline on MNIST or Fashion-MNIST: progress bars, per-epoch metrics (loss, accuracy, NFE, time) " +
        "in metrics.csv and metrics.json, an atomic checkpoint after every epoch, --resume.";

    /// <summary>Runs the command.</summary>
    /// <param name="context">The command context.</param>
    /// <param name="settings">The options.</param>
    /// <param name="cancellationToken">Stops between batches (the epoch in progress is lost; resume with --resume).</param>
    /// <returns>0 on success, 130 when interrupted (failures are exceptions: see <see cref="ExitCodes"/>).</returns>
    public override int Execute(CommandContext context, TrainSettings settings, CancellationToken cancellationToken) =>
        CommandErrors.Guard(() =>
        {
            var threads = DeviceChoice.ApplyThreads(settings.Threads);
            var device = DeviceChoice.Resolve(settings.Device, console);
            var kind = settings.Kind;
            var options = settings.ToOptions(kind, settings.Epochs ?? StoryCommand.DefaultEpochs(kind));
            var folder = settings.OutputFolder("train-" + kind.ToString().ToLowerInvariant());
            using var data = DataLoading.Open(settings, console, device, cancellationToken, settings.TrainLimit);
            console.WriteLine($"{data.Info.DisplayName} from {data.Folder}: {data.TrainCount:N0} training and {data.TestCount:N0} test images; device {device.type.ToString().ToLowerInvariant()}, {threads} threads.");
            console.WriteLine($"{kind.ToString().ToUpperInvariant()}: {options.Model.Description}; {options.Describe()}.");
            var label = kind.ToString().ToLowerInvariant();
            var result = ProgressDisplay.Train(console, label, progress => Trainer.Run(options, data, folder, settings.Resume, device, progress, cancellationToken));
            if (result.ResumedFrom > 0)
            {
                console.WriteLine($"Resumed after epoch {result.ResumedFrom}.");
            }

            console.Write(MetricsTable.ForEpochs(label, result.History, console));
            console.WriteLine($"Run folder: {folder} (model.bin, checkpoint.bin, metrics.csv, metrics.json).");
            if (result.Interrupted)
            {
                console.WriteLine($"Interrupted: continue with --out {folder} --resume.");
                return CommandErrors.Interrupted;
            }

            return 0;
        });
}

/// <summary>Opens the data set of a command, with download progress.</summary>
internal static class DataLoading
{
    /// <summary>Finds (or downloads) and loads the data set.</summary>
    /// <param name="settings">The command's data options.</param>
    /// <param name="console">Where progress goes.</param>
    /// <param name="device">Where the tensors go.</param>
    /// <param name="cancellationToken">Stops a download.</param>
    /// <param name="trainLimit">Load only the first N training images (1 for a command that reads only the test set), or null for all.</param>
    /// <returns>The data set.</returns>
    public static Dataset Open(DataSettings settings, IAnsiConsole console, Device device, CancellationToken cancellationToken, int? trainLimit)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var info = settings.DatasetInfo;
        var location = DataLocator.Find(info, settings.Data) ?? ProgressDisplay.Download(
            console, progress => Dataset.Locate(info, settings.Data, !settings.Offline, progress, cancellationToken));
        return Dataset.Load(info, location, trainLimit, settings.TestLimit, device);
    }
}

/// <summary>Gives a training command's solver failures the advice that fits them; every other failure reaches
/// <see cref="DemoApp.Run"/>, which prints it and picks the exit code.</summary>
internal static class CommandErrors
{
    /// <summary>The exit code of an interrupted run.</summary>
    public const int Interrupted = ExitCodes.Interrupted;

    /// <summary>Runs a command body.</summary>
    /// <param name="body">The body.</param>
    /// <returns>Its exit code.</returns>
    /// <exception cref="InvalidOperationException">The ODE solve failed (exit code 1), with what to try.</exception>
    public static int Guard(Func<int> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        try
        {
            return body();
        }
        catch (OdeSolverException error)
        {
            throw new InvalidOperationException($"The ODE solve failed: {error.Message} Try a looser --rtol/--atol or --fixed-steps.", error);
        }
    }
}
