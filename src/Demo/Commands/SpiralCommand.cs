using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using NeuralOde.Demo.Cli;
using NeuralOde.Demo.Spiral;
using NeuralOde.Modules;
using Spectre.Console;
using Spectre.Console.Cli;

namespace NeuralOde.Demo.Commands;

/// <summary><c>spiral</c>: torchdiffeq's ode_demo re-done: learn the cubic spiral from short windows of its trajectory.</summary>
/// <param name="console">Where to write.</param>
internal sealed class SpiralCommand(IAnsiConsole console) : Command<SpiralCommand.Settings>
{
    /// <summary>The command's description, shown by <c>--help</c>.</summary>
    public const string Description =
        "Learn the spiral dy/dt = (y³)·A of torchdiffeq's ode_demo from random 10-point windows (--irregular: each window its own random times): " +
        "progress bar, final loss over the whole trajectory, figures of the trajectories, the learned vector field and the loss curve.";

    /// <summary>The metrics file's name in the output folder.</summary>
    public const string MetricsFile = "spiral.json";

    /// <summary>Runs the command.</summary>
    /// <param name="context">The command context.</param>
    /// <param name="settings">The options.</param>
    /// <param name="cancellationToken">Stops between iterations; the figures then show the model so far.</param>
    /// <returns>0 on success, 2 for bad arguments, 1 for a failed solve, 130 when interrupted.</returns>
    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken) =>
        CommandErrors.Guard(() =>
        {
            var options = settings.ToOptions();
            options.Validate();
            var threads = DeviceChoice.ApplyThreads(settings.Threads);
            var folder = Path.GetFullPath(settings.Out ?? Path.Combine(
                "runs", $"spiral-{DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}"));
            console.WriteLine($"Spiral (torchdiffeq's ode_demo): {options.Describe()}; cpu, {threads} threads.");

            var result = Train(options, cancellationToken);
            Directory.CreateDirectory(folder);
            Write(folder, SpiralFigures.TrajectoriesFile, SpiralFigures.Trajectories(result));
            Write(folder, SpiralFigures.VectorFieldFile, SpiralFigures.VectorField(result));
            Write(folder, SpiralFigures.LossFile, SpiralFigures.Loss(result));
            Write(folder, MetricsFile, JsonSerializer.SerializeToUtf8Bytes(SpiralMetrics.From(options, result), SpiralJsonContext.Default.SpiralMetrics));

            console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"Final loss over the whole trajectory (mean |learned − true| at {options.DataSize} points): {result.FinalLoss:0.000000} after {result.TrainLoss.Count} iterations."));
            console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"Time per iteration: {1000 * result.SecondsPerIteration:0.00} ms wall, {1000 * result.CpuSecondsPerIteration:0.00} ms thread CPU (iterations 2…{result.TrainLoss.Count}, evaluations excluded); " +
                $"dynamics calls per iteration: {result.ForwardCalls:0.0} forward, {result.BackwardCalls:0.0} backward."));
            console.WriteLine($"Figures: {Path.Combine(folder, SpiralFigures.TrajectoriesFile)}, {SpiralFigures.VectorFieldFile}, {SpiralFigures.LossFile}; metrics: {MetricsFile}.");
            return result.Interrupted ? CommandErrors.Interrupted : 0;
        });

    private SpiralResult Train(SpiralOptions options, CancellationToken cancellationToken)
    {
        if (!ProgressDisplay.IsLive(console))
        {
            return SpiralTrainer.Run(
                options,
                (iteration, _, total) =>
                {
                    if (total is { } value)
                    {
                        console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Iter {iteration:0000} | Total Loss {value:0.000000}"));
                    }
                },
                cancellationToken);
        }

        return console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(progress =>
            {
                var task = progress.AddTask("spiral", maxValue: options.Iterations);
                var last = double.NaN;
                return SpiralTrainer.Run(
                    options,
                    (iteration, loss, total) =>
                    {
                        last = total ?? last;
                        task.Value = iteration;
                        task.Description = Markup.Escape(string.Create(
                            CultureInfo.InvariantCulture,
                            $"spiral iter {iteration}/{options.Iterations}  batch loss {loss:0.0000}  total loss {last:0.0000}"));
                    },
                    cancellationToken);
            });
    }

    private static void Write(string folder, string name, byte[] bytes) =>
        Checkpoint.WriteAtomically(Path.Combine(folder, name), stream => stream.Write(bytes));

    /// <summary>The <c>spiral</c> command's options; defaults are ode_demo's.</summary>
    internal sealed class Settings : CommandSettings
    {
        /// <summary>Gets or sets the iterations.</summary>
        [CommandOption("--iterations <N>")]
        [Description("Training iterations (ode_demo's --niters).")]
        [DefaultValue(2000)]
        public int Iterations { get; set; } = 2000;

        /// <summary>Gets or sets the windows per batch.</summary>
        [CommandOption("--batch-size <N>")]
        [Description("Windows per batch.")]
        [DefaultValue(20)]
        public int BatchSize { get; set; } = 20;

        /// <summary>Gets or sets the points per window.</summary>
        [CommandOption("--batch-time <N>")]
        [Description("Points per window.")]
        [DefaultValue(10)]
        public int BatchTime { get; set; } = 10;

        /// <summary>Gets or sets how often the whole trajectory is evaluated.</summary>
        [CommandOption("--test-every <N>")]
        [Description("Evaluate the loss over the whole trajectory every N iterations (and at the end).")]
        [DefaultValue(20)]
        public int TestEvery { get; set; } = 20;

        /// <summary>Gets or sets whether windows have their own random times.</summary>
        [CommandOption("--irregular")]
        [Description("Every window of a batch has its own random sorted times (10 of 20 consecutive points, a [B, T] grid).")]
        public bool Irregular { get; set; }

        /// <summary>Gets or sets whether every window takes its own steps.</summary>
        [CommandOption("--per-row-steps")]
        [Description("Every window takes its own steps (the solver's default) instead of one step size for the batch, as ode_demo's torchdiffeq does.")]
        public bool PerRowSteps { get; set; }

        /// <summary>Gets or sets the gradient mode.</summary>
        [CommandOption("--gradient <MODE>")]
        [Description("backprop (through the solver) or adjoint.")]
        [DefaultValue("backprop")]
        public string Gradient { get; set; } = "backprop";

        /// <summary>Gets or sets the scheme.</summary>
        [CommandOption("--scheme <NAME>")]
        [Description("An adaptive scheme (see the schemes command).")]
        [DefaultValue("DOPRI5")]
        public string Scheme { get; set; } = "DOPRI5";

        /// <summary>Gets or sets the relative tolerance.</summary>
        [CommandOption("--rtol <X>")]
        [Description("Relative tolerance (torchdiffeq's default 1e-7).")]
        [DefaultValue(1e-7)]
        public double Rtol { get; set; } = 1e-7;

        /// <summary>Gets or sets the absolute tolerance.</summary>
        [CommandOption("--atol <X>")]
        [Description("Absolute tolerance (torchdiffeq's default 1e-9).")]
        [DefaultValue(1e-9)]
        public double Atol { get; set; } = 1e-9;

        /// <summary>Gets or sets the learning rate.</summary>
        [CommandOption("--lr <X>")]
        [Description("Adam's learning rate.")]
        [DefaultValue(1e-3)]
        public double LearningRate { get; set; } = 1e-3;

        /// <summary>Gets or sets the seed.</summary>
        [CommandOption("--seed <N>")]
        [Description("Seed of the weights and of the windows; runs on the CPU are reproducible.")]
        [DefaultValue(1)]
        public int Seed { get; set; } = 1;

        /// <summary>Gets or sets libtorch's thread count.</summary>
        [CommandOption("--threads <N>")]
        [Description("libtorch intra-op threads. Default: min(2, cores).")]
        public int? Threads { get; set; }

        /// <summary>Gets or sets the output folder.</summary>
        [CommandOption("-o|--out <DIR>")]
        [Description("Output folder for the figures and spiral.json. Default: runs/spiral-<timestamp>.")]
        public string? Out { get; set; }

        /// <summary>Builds the training options.</summary>
        /// <returns>The options.</returns>
        /// <exception cref="ArgumentException">An unknown gradient mode or scheme.</exception>
        public SpiralOptions ToOptions()
        {
            var gradient = Gradient.Trim().ToLowerInvariant() switch
            {
                "backprop" => GradientMode.Backprop,
                "adjoint" => GradientMode.Adjoint,
                _ => throw new ArgumentException($"Unknown --gradient '{Gradient}': use backprop or adjoint."),
            };
            if (!Schemes.TryGet(Scheme, out var scheme))
            {
                throw new ArgumentException($"Unknown --scheme '{Scheme}'; the schemes command lists them.");
            }

            if (!scheme.HasErrorEstimate)
            {
                throw new ArgumentException($"--scheme {scheme.Name} has no error estimate; the spiral demo needs an adaptive scheme such as DOPRI5.");
            }

            return new SpiralOptions
            {
                Iterations = Iterations,
                BatchSize = BatchSize,
                BatchTime = BatchTime,
                TestEvery = TestEvery,
                Irregular = Irregular,
                PerRowSteps = PerRowSteps,
                Gradient = gradient,
                Scheme = scheme.Name,
                RelativeTolerance = Rtol,
                AbsoluteTolerance = Atol,
                LearningRate = LearningRate,
                Seed = Seed,
            };
        }
    }
}
