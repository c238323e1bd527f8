using System.ComponentModel;
using System.Globalization;
using NeuralOde.Demo.Data;
using NeuralOde.Demo.Training;
using NeuralOde.Modules;
using Spectre.Console;
using Spectre.Console.Cli;

namespace NeuralOde.Demo.Commands;

/// <summary>The options shared by every command that reads a data set and writes an output folder.</summary>
internal class DataSettings : CommandSettings
{
    /// <summary>Gets or sets the data set.</summary>
    [CommandOption("--dataset <NAME>")]
    [Description("Data set: mnist or fashion-mnist. Default: mnist (visualize: the data set the models were trained on).")]
    public string? Dataset { get; set; }

    /// <summary>Gets or sets the data folder.</summary>
    [CommandOption("--data <DIR>")]
    [Description("Folder with the four IDX files (.gz or not), or with a <dataset> subfolder. Default: the first of $NEURALODE_DATA, ~/.cache/neuralode/<dataset>, shared/data/<dataset> above the current or the app's folder, /usr/share/datasets/fashion-mnist that holds them; else downloaded into the cache (sha256-checked).")]
    public string? Data { get; set; }

    /// <summary>Gets or sets whether downloading is off.</summary>
    [CommandOption("--offline")]
    [Description("Never download: fail with the list of places searched when the data set is not found.")]
    public bool Offline { get; set; }

    /// <summary>Gets or sets the device.</summary>
    [CommandOption("--device <DEVICE>")]
    [Description("cpu, cuda (falls back to the CPU with a message when CUDA is not available) or auto.")]
    [DefaultValue("cpu")]
    public string Device { get; set; } = "cpu";

    /// <summary>Gets or sets libtorch's thread count.</summary>
    [CommandOption("--threads <N>")]
    [Description("libtorch intra-op threads (torch.set_num_threads). Default: auto: min(2, cores).")]
    public int? Threads { get; set; }

    /// <summary>Gets or sets the output folder.</summary>
    [CommandOption("-o|--out <DIR>")]
    [Description("Output folder. Default: runs/<command>-<dataset>-<timestamp> under the current folder (visualize with --run: the run's figures/).")]
    public string? Out { get; set; }

    /// <summary>Gets or sets the seed.</summary>
    [CommandOption("--seed <N>")]
    [Description("Seed of the weights' initialization (torch.manual_seed), of each epoch's shuffle and of the random choice of highlighted inputs; runs on the CPU are reproducible.")]
    [DefaultValue(1)]
    public int Seed { get; set; } = 1;

    /// <summary>Gets or sets the test subset.</summary>
    [CommandOption("--test-limit <N>")]
    [Description("Use only the first N test images (evaluation and figures). Default: all.")]
    public int? TestLimit { get; set; }

    /// <summary>Gets the output folder: <see cref="Out"/>, or <c>runs/&lt;command&gt;-&lt;dataset&gt;-&lt;timestamp&gt;</c>.</summary>
    /// <param name="command">The command's name.</param>
    /// <returns>The folder's full path.</returns>
    public string OutputFolder(string command) => Path.GetFullPath(Out ?? Path.Combine(
        "runs", $"{command}-{DatasetInfo.Id}-{DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}"));

    /// <summary>Gets the data set's description.</summary>
    public DatasetInfo DatasetInfo => NeuralOde.Demo.Data.DatasetInfo.Get(Dataset ?? "mnist");

    /// <inheritdoc />
    public override ValidationResult Validate()
    {
        try
        {
            _ = DatasetInfo;
        }
        catch (ArgumentException error)
        {
            return ValidationResult.Error(error.Message);
        }

        if (TestLimit is < 1)
        {
            return ValidationResult.Error("--test-limit must be at least 1.");
        }

        return Threads is < 1 ? ValidationResult.Error("--threads must be at least 1.") : ValidationResult.Success();
    }
}

/// <summary>The options of a training run (shared by <c>train</c> and the default story).</summary>
internal class TrainingSettings : DataSettings
{
    /// <summary>Gets or sets the training subset.</summary>
    [CommandOption("--train-limit <N>")]
    [Description("Use only the first N training images (quick runs). Default: all.")]
    public int? TrainLimit { get; set; }

    /// <summary>Gets or sets the hidden size.</summary>
    [CommandOption("--hidden <N>")]
    [Description("Hidden state size after the 784→N tanh downsampling (the ODE's state).")]
    [DefaultValue(128)]
    public int Hidden { get; set; } = 128;

    /// <summary>Gets or sets the dynamics' width.</summary>
    [CommandOption("--width <N>")]
    [Description("Hidden width of the dynamics MLP (the MLP body of the baseline).")]
    [DefaultValue(128)]
    public int Width { get; set; } = 128;

    /// <summary>Gets or sets the dynamics' depth.</summary>
    [CommandOption("--depth <N>")]
    [Description("Hidden layers of the dynamics MLP.")]
    [DefaultValue(1)]
    public int Depth { get; set; } = 1;

    /// <summary>Gets or sets the scheme.</summary>
    [CommandOption("--scheme <NAME>")]
    [Description("Runge–Kutta scheme of the ODE block (see the schemes command), e.g. RKF45, DOPRI5, Tsit5, RK4.")]
    [DefaultValue("RKF45")]
    public string Scheme { get; set; } = "RKF45";

    /// <summary>Gets or sets the relative tolerance.</summary>
    [CommandOption("--rtol <TOL>")]
    [Description("Relative tolerance of the adaptive ODE solve.")]
    [DefaultValue(1e-3)]
    public double Rtol { get; set; } = 1e-3;

    /// <summary>Gets or sets the absolute tolerance.</summary>
    [CommandOption("--atol <TOL>")]
    [Description("Absolute tolerance of the adaptive ODE solve.")]
    [DefaultValue(1e-4)]
    public double Atol { get; set; } = 1e-4;

    /// <summary>Gets or sets the number of fixed steps.</summary>
    [CommandOption("--fixed-steps <N>")]
    [Description("Solve the ODE with N equal steps instead of adaptively (needed for schemes without an error estimate). Default: adaptive.")]
    public int? FixedSteps { get; set; }

    /// <summary>Gets or sets the gradient mode.</summary>
    [CommandOption("--gradient <MODE>")]
    [Description("backprop (through the solver) or adjoint (continuous adjoint, constant memory).")]
    [DefaultValue("backprop")]
    public string Gradient { get; set; } = "backprop";

    /// <summary>Gets or sets the batch size.</summary>
    [CommandOption("--batch-size <N>")]
    [Description("Mini-batch size.")]
    [DefaultValue(128)]
    public int BatchSize { get; set; } = 128;

    /// <summary>Gets or sets the learning rate.</summary>
    [CommandOption("--lr <RATE>")]
    [Description("Adam's learning rate.")]
    [DefaultValue(1e-3)]
    public double LearningRate { get; set; } = 1e-3;

    /// <summary>Gets or sets the learning-rate decay.</summary>
    [CommandOption("--lr-decay <FACTOR>")]
    [Description("Multiply the learning rate by FACTOR after every epoch (epoch e uses lr × FACTOR^(e-1)); 1 keeps it constant.")]
    [DefaultValue(0.75)]
    public double LrDecay { get; set; } = 0.75;

    /// <summary>Gets or sets the label smoothing.</summary>
    [CommandOption("--label-smoothing <EPS>")]
    [Description("Label smoothing of the training loss (0 = plain cross-entropy; reported test losses never smooth).")]
    [DefaultValue(0.1)]
    public double LabelSmoothing { get; set; } = 0.1;

    /// <summary>Gets the gradient mode.</summary>
    public GradientMode GradientMode => Gradient.Trim().ToLowerInvariant() switch
    {
        "backprop" => GradientMode.Backprop,
        "adjoint" => GradientMode.Adjoint,
        _ => throw new ArgumentException($"Unknown --gradient '{Gradient}': use backprop or adjoint."),
    };

    /// <summary>Builds the options of one model's run.</summary>
    /// <param name="kind">The model.</param>
    /// <param name="epochs">The epochs.</param>
    /// <returns>The options.</returns>
    public TrainingOptions ToOptions(ModelKind kind, int epochs) => new()
    {
        Model = new ModelSpec
        {
            Kind = kind,
            Hidden = Hidden,
            Width = Width,
            Depth = Depth,
            Classes = DatasetInfo.ClassNames.Count,
            Scheme = Scheme,
            Rtol = Rtol,
            Atol = Atol,
            FixedSteps = FixedSteps,
            Gradient = GradientMode,
        },
        Dataset = DatasetInfo.Id,
        Epochs = epochs,
        BatchSize = BatchSize,
        LearningRate = LearningRate,
        LrDecay = LrDecay,
        LabelSmoothing = LabelSmoothing,
        Seed = Seed,
        TrainLimit = TrainLimit,
        TestLimit = TestLimit,
    };

    /// <inheritdoc />
    public override ValidationResult Validate()
    {
        var baseResult = base.Validate();
        if (!baseResult.Successful)
        {
            return baseResult;
        }

        try
        {
            ToOptions(ModelKind.Ode, 1).Validate();
        }
        catch (ArgumentException error)
        {
            return ValidationResult.Error(error.Message);
        }

        return ValidationResult.Success();
    }
}
