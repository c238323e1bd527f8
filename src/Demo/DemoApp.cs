using System.Globalization;
using System.Reflection;
using NeuralOde.Demo.Cli;
using NeuralOde.Demo.Commands;
using Spectre.Console;
using Spectre.Console.Cli;

namespace NeuralOde.Demo;

/// <summary>The command-line application: its commands, the one that runs without arguments, and how errors end.</summary>
internal static class DemoApp
{
    /// <summary>The application's name in help texts.</summary>
    public const string Name = "NeuralOde.Demo";

    /// <summary>The commands, in the order the help lists them: name, description and examples. A new command is one
    /// more line here.</summary>
    private static readonly CommandEntry[] CommandList =
    [
        CommandEntry.Of<SchemesCommand>("schemes", SchemesCommand.Description, ["schemes"]),
        CommandEntry.Of<TrainCommand>("train", TrainCommand.Description, ["train"], ["train", "--model", "mlp", "--epochs", "6"], ["train", "--dataset", "fashion-mnist", "--scheme", "DOPRI5", "--rtol", "1e-4", "--out", "runs/f1"], ["train", "--out", "runs/f1", "--resume"]),
        CommandEntry.Of<VisualizeCommand>("visualize", VisualizeCommand.Description, ["visualize"], ["visualize", "--run", "runs/story-mnist-20250101-120000", "--index", "0,1,2"], ["visualize", "--mlp", "runs/m", "--ode", "runs/o", "--samples", "10", "--times", "101"]),
        CommandEntry.Of<StoryCommand>("story", StoryCommand.Description, ["story"], ["story", "--dataset", "fashion-mnist"], ["story", "--mlp-epochs", "2", "--ode-epochs", "2", "--out", "runs/quick"]),
        CommandEntry.Of<SpiralCommand>("spiral", SpiralCommand.Description, ["spiral"], ["spiral", "--irregular", "--gradient", "adjoint"]),
        CommandEntry.Of<BenchCommand>("bench", BenchCommand.Description, ["bench"], ["bench", "--problem", "stiff_d16_b1024", "--scheme", "DOPRI5", "--compare-shared"], ["bench", "--scheme", "RK4", "--fixed-steps", "50", "--json", "rk4.json"], ["bench", "-p", "mlp_d64_h64_b1024", "-s", "DOPRI5", "--gradient", "none,both", "--repeats", "7", "--out", "ours.json"]),
        CommandEntry.Of<MemoryCommand>("bench-memory", MemoryCommand.Description, ["bench-memory"], ["bench-memory", "--rows", "100_000,1_000_000", "--repeats", "3", "--json", "memory.json"]),
    ];

    /// <summary>Gets the commands, in the order the help lists them.</summary>
    public static IReadOnlyList<CommandEntry> Commands => CommandList;

    /// <summary>The examples of the root help.</summary>
    private static readonly string[][] RootExamples =
    [
        [],
        ["--dataset", "fashion-mnist"],
        ["--data", "~/mnist", "--offline", "--mlp-epochs", "2", "--ode-epochs", "2"],
        ["train", "--model", "ode", "--epochs", "6", "--out", "runs/ode"],
        ["visualize", "--run", "runs/story-mnist-20250101-120000", "--index", "0,1,2"],
        ["bench", "--problem", "expdecay"],
    ];

    /// <summary>Gets the version printed by <c>--version</c>: the assembly's informational version (from the git tag).</summary>
    public static string Version { get; } =
        typeof(DemoApp).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";

    /// <summary>Builds the application writing to <paramref name="console"/>.</summary>
    /// <param name="console">Where commands and help write.</param>
    /// <returns>The configured application.</returns>
    public static CommandApp Create(IAnsiConsole console)
    {
        var app = new CommandApp();
        app.SetDefaultCommand<StoryCommand>().WithDescription("NeuralOde demo. Without a command: " + StoryCommand.Description);
        app.Configure(config =>
        {
            config.SetApplicationName(Name);
            config.SetApplicationVersion(Version);
            config.SetApplicationCulture(CultureInfo.InvariantCulture);
            config.ConfigureConsole(console);
            config.SetHelpProvider(new ExitCodesHelpProvider(config.Settings));
            config.UseStrictParsing();
            config.PropagateExceptions();
            foreach (var example in RootExamples)
            {
                config.AddExample(example);
            }

            foreach (var command in CommandList)
            {
                command.Register(config);
            }
        });
        return app;
    }

    /// <summary>Runs the application.</summary>
    /// <param name="args">The command line.</param>
    /// <param name="console">Where to write; null for stdout (plain text when redirected).</param>
    /// <param name="error">Where error messages go; null for stderr.</param>
    /// <param name="cancellationToken">Stops long commands (training stops between batches and can be resumed).</param>
    /// <returns>The exit code (<see cref="ExitCodes"/>).</returns>
    public static int Run(string[] args, IAnsiConsole? console = null, TextWriter? error = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        console ??= Output.CreateStdout();
        error ??= Console.Error;
        try
        {
            if (args is ["--version"] or ["-v"])
            {
                console.WriteLine(Version);
                return ExitCodes.Success;
            }

            CommandLineCheck.Check(args, CommandList.ToDictionary(static c => c.Name, static c => c.Settings, StringComparer.Ordinal), typeof(StorySettings), Name);
            return Create(console).Run(args, cancellationToken);
        }
        catch (Exception failure) when (failure is UsageException or CommandAppException or ArgumentException)
        {
            // Spectre's parse and validation errors, ours, and bad values found by a command: one line, exit 2.
            WriteError(error, OneLine(failure.Message));
            return ExitCodes.Usage;
        }
        catch (Exception failure) when (failure is not OutOfMemoryException)
        {
            WriteError(error, failure.Message);
            return ExitCodes.Failure;
        }
    }

    /// <summary>Writes <c>Error: </c> and the message (a multi-line message keeps its detail lines below).</summary>
    /// <param name="error">The error writer.</param>
    /// <param name="message">The message.</param>
    public static void WriteError(TextWriter error, string message)
    {
        ArgumentNullException.ThrowIfNull(error);
        error.WriteLine("Error: " + message.Trim());
        error.Flush();
    }

    // One line, without the " (Parameter 'name')" that ArgumentException appends for developers.
    private static string OneLine(string message) => System.Text.RegularExpressions.Regex.Replace(
        string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)),
        @" \(Parameter '[^']*'\)", "");
}
