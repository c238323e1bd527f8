using System.Globalization;
using NeuralOde.Demo.Cli;
using NeuralOde.Demo.Commands;
using Spectre.Console;
using Spectre.Console.Cli;

namespace NeuralOde.Demo;

/// <summary>The command-line application: its commands, and the one that runs without arguments.</summary>
internal static class DemoApp
{
    /// <summary>The application's name in help texts.</summary>
    public const string Name = "NeuralOde.Demo";

    /// <summary>Builds the application writing to <paramref name="console"/>.</summary>
    /// <param name="console">Where commands and help write.</param>
    /// <returns>The configured application.</returns>
    public static CommandApp Create(IAnsiConsole console)
    {
        var app = new CommandApp();
        SetDefaultCommand(app);
        app.Configure(config =>
        {
            config.SetApplicationName(Name);
            config.SetApplicationCulture(CultureInfo.InvariantCulture);
            config.ConfigureConsole(console);
            config.AddCommand<SchemesCommand>("schemes")
                .WithDescription(SchemesCommand.Description)
                .WithExample("schemes");
            config.AddCommand<TrainCommand>("train")
                .WithDescription(TrainCommand.Description)
                .WithExample("train")
                .WithExample("train", "--model", "mlp", "--epochs", "6")
                .WithExample("train", "--dataset", "fashion-mnist", "--scheme", "DOPRI5", "--rtol", "1e-4", "--out", "runs/f1")
                .WithExample("train", "--out", "runs/f1", "--resume");
            config.AddCommand<VisualizeCommand>("visualize")
                .WithDescription(VisualizeCommand.Description)
                .WithExample("visualize")
                .WithExample("visualize", "--run", "runs/story-mnist-20250101-120000", "--index", "0,1,2")
                .WithExample("visualize", "--mlp", "runs/m", "--ode", "runs/o", "--samples", "10", "--times", "101");
            config.AddCommand<StoryCommand>("story")
                .WithDescription(StoryCommand.Description)
                .WithExample("story")
                .WithExample("story", "--dataset", "fashion-mnist")
                .WithExample("story", "--mlp-epochs", "2", "--ode-epochs", "2", "--out", "runs/quick");
            config.AddCommand<SpiralCommand>("spiral").WithDescription(SpiralCommand.Description).WithExample("spiral").WithExample("spiral", "--irregular", "--gradient", "adjoint");
            config.AddCommand<BenchCommand>("bench")
                .WithDescription(BenchCommand.Description)
                .WithExample("bench")
                .WithExample("bench", "--problem", "stiff_d16_b1024", "--scheme", "DOPRI5", "--compare-shared")
                .WithExample("bench", "--scheme", "RK4", "--fixed-steps", "50", "--json", "rk4.json");
        });
        return app;
    }

    /// <summary>Runs the application.</summary>
    /// <param name="args">The command line.</param>
    /// <param name="console">Where to write; null for stdout (plain text when redirected).</param>
    /// <param name="cancellationToken">Stops long commands (training stops between batches and can be resumed).</param>
    /// <returns>The exit code.</returns>
    public static int Run(string[] args, IAnsiConsole? console = null, CancellationToken cancellationToken = default) =>
        Create(console ?? Output.CreateStdout()).Run(args, cancellationToken);

    // The command that runs with no arguments: the whole story (train both models on MNIST, print the metrics,
    // write the figures).
    private static void SetDefaultCommand(CommandApp app) =>
        app.SetDefaultCommand<StoryCommand>().WithDescription("NeuralOde demo. Without a command: " + StoryCommand.Description);
}
