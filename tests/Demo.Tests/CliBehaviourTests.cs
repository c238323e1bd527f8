using System.ComponentModel;
using System.Reflection;
using NeuralOde.Demo.Cli;
using NeuralOde.Demo.Commands;

namespace NeuralOde.Demo.Tests;

/// <summary>The demo behaves like a good command line: usage errors name the fix, exit codes say what happened.</summary>
[Collection("Torch")]
public sealed class CliBehaviourTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("neuralode-cli-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public void AMistypedOptionIsAnErrorNamingTheClosestOne()
    {
        Assert.Equal(
            "Error: Unknown option '--epoch' for 'train': did you mean --epochs?",
            DemoCli.UsageError("--epochs", "train", "--epoch", "1"));
        DemoCli.UsageError("Unknown option '--lr-decy' for 'train': did you mean --lr-decay?", "train", "--lr-decy", "0.5");
        DemoCli.UsageError("Unknown option '--sede' for 'train': did you mean --seed?", "train", "--sede", "3");
        DemoCli.UsageError("Unknown option '--repaets' for 'bench': did you mean --repeats?", "bench", "--repaets", "3");
        DemoCli.UsageError("did you mean --mlp-epochs or --ode-epochs?", "--epoch", "3");
        DemoCli.UsageError("Unknown option '--zzz' for 'visualize'; its options: --help, --run,", "visualize", "--zzz");
    }

    [Fact]
    public void AStrayArgumentIsAnErrorNamingTheClosestOption()
    {
        DemoCli.UsageError("Unexpected argument 'epochs' for 'train', which takes options only: did you mean --epochs?", "train", "epochs", "3");
        DemoCli.UsageError("Unexpected argument '7' for 'train', which takes options only; its options: --help,", "train", "--epochs", "6", "7");
        DemoCli.UsageError("Unknown command 'trian': did you mean 'train'?", "trian");
    }

    [Fact]
    public void MissingAndMalformedValuesAreUsageErrors()
    {
        DemoCli.UsageError("Option --epochs needs a value: --epochs <N>.", "train", "--epochs");
        DemoCli.UsageError("Option --epochs expects a whole number; got 'x'.", "train", "--epochs", "x");
        DemoCli.UsageError("Option --lr expects a number (like 1e-3); got 'fast'.", "train", "--lr", "fast");
        DemoCli.UsageError("Unknown --model 'cnn': use ode or mlp.", "train", "--model", "cnn");
        DemoCli.UsageError("--resume needs --out DIR", "train", "--resume");
        DemoCli.UsageError("--times must be at least 50 (got 10).", "visualize", "--times", "10");
        DemoCli.UsageError("--compaction must be auto, always or never; got 'sometimes'.", "bench", "--compaction", "sometimes");
        DemoCli.UsageError("Unknown problem 'nope'; the problems: mlp_d64_h64_b1024,", "bench", "--data", TestData.Bench, "--problem", "nope");
    }

    [Fact]
    public void RuntimeFailuresExitWithOne()
    {
        // A --data folder without the files: never replaced by another folder, never downloaded into.
        var (code, output, error) = DemoCli.Run("train", "--data", folder, "--offline", "--epochs", "1");
        Assert.Equal(ExitCodes.Failure, code);
        Assert.StartsWith($"Error: MNIST is not in --data {folder}: it needs the four IDX files", error, StringComparison.Ordinal);
        Assert.DoesNotContain("epoch 1", output, StringComparison.Ordinal);

        // A benchmark file that fails its sha256 check.
        var bench = Path.Combine(folder, "bench");
        var problem = BenchFolder.CopyProblem("expdecay");
        try
        {
            Directory.CreateDirectory(bench);
            Directory.Move(problem, Path.Combine(bench, "expdecay"));
            File.WriteAllText(Path.Combine(bench, "manifest.json"), """{ "format_version": 1, "problems": ["expdecay"] }""");
            File.WriteAllBytes(Path.Combine(bench, "expdecay", "y0.f64"), new byte[8]);
            (code, _, error) = DemoCli.Run("bench", "--data", bench, "--repeats", "1", "--warmup", "0");
            Assert.Equal(ExitCodes.Failure, code);
            Assert.StartsWith("Error: ", error, StringComparison.Ordinal);
            Assert.Contains("fails its sha256 check", error, StringComparison.Ordinal);
        }
        finally
        {
            if (Directory.Exists(problem))
            {
                Directory.Delete(problem, recursive: true);
            }
        }
    }

    [Fact]
    public void VersionPrintsTheVersionAndRunsNothing()
    {
        var (code, output, error) = DemoCli.Run("--version");

        Assert.Equal(0, code);
        Assert.Equal("", error);
        var expected = typeof(DemoApp).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;
        Assert.Equal(expected, output.Trim());
        Assert.Matches(@"^\d+\.\d+\.\d+", expected);
    }

    [Fact]
    public void RootHelpShowsExamplesAndTheExitCodes()
    {
        var (code, output, error) = DemoCli.Run("--help");

        Assert.Equal(0, code);
        Assert.Equal("", error);
        Assert.Contains("EXAMPLES:", output, StringComparison.Ordinal);
        Assert.Contains("NeuralOde.Demo --dataset fashion-mnist", output, StringComparison.Ordinal);
        Assert.Contains("NeuralOde.Demo train --model ode --epochs 6 --out runs/ode", output, StringComparison.Ordinal);
        Assert.Contains("-v, --version", output, StringComparison.Ordinal);
        Assert.Contains("EXIT CODES:", output, StringComparison.Ordinal);
        foreach (var (exit, meaning) in ExitCodes.Meanings)
        {
            Assert.Matches($@"\n\s+{exit}\s+{System.Text.RegularExpressions.Regex.Escape(meaning)}", output);
        }

        Assert.Contains("EXIT CODES:", DemoCli.Run("train", "--help").Output, StringComparison.Ordinal);
    }

    [Fact]
    public void EveryOptionShowsItsDefault()
    {
        foreach (var command in DemoApp.Commands)
        {
            foreach (var property in command.Settings.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                if (property.GetCustomAttribute<Spectre.Console.Cli.CommandOptionAttribute>() is not { } option || option.ValueName is null)
                {
                    continue; // not an option, or a flag (off unless given)
                }

                var description = property.GetCustomAttribute<DescriptionAttribute>()?.Description ?? "";
                Assert.True(
                    property.GetCustomAttribute<DefaultValueAttribute>() is not null || description.Contains("Default: ", StringComparison.Ordinal),
                    $"{command.Name} --{option.LongNames[0]} shows no default: give it [DefaultValue] or say 'Default: …' in its description.");
            }
        }

        // Spectre shows [DefaultValue] in the DEFAULT column; computed ones say "auto: …".
        var train = DemoCli.Run("train", "--help").Output;
        Assert.Matches(@"--scheme <NAME>\s+RKF45", train);
        Assert.Matches(@"--lr-decay <FACTOR>\s+0\.75", train);
        Assert.Contains("Default: auto: min(2, cores)", train, StringComparison.Ordinal);
    }

    [Fact]
    public void VisualizeListsOnlyItsOwnOptions()
    {
        var (code, output, _) = DemoCli.Run("visualize", "--help");

        Assert.Equal(0, code);
        foreach (var own in new[] { "--run", "--mlp", "--ode", "--index", "--samples", "--fit", "--times", "--data", "--test-limit", "--seed", "--out" })
        {
            Assert.Contains(own, output, StringComparison.Ordinal);
        }

        foreach (var other in new[] { "--epochs", "--lr", "--lr-decay", "--hidden", "--scheme", "--train-limit", "--batch-size", "--resume", "--mlp-epochs" })
        {
            Assert.DoesNotMatch($@"(?m)^\s+(-\w, )?{other}\b(?!-)", output); // an option row
        }

        DemoCli.UsageError("Unknown option '--train-limit' for 'visualize'", "visualize", "--train-limit", "5");
    }

    [Fact]
    public void SuggestionsComeFromTheCommandsOwnOptions()
    {
        var options = CommandLineCheck.Options(typeof(VisualizeSettings)).SelectMany(static o => o.Names).ToList();

        Assert.Contains("-r", options);
        Assert.Contains("--run", options);
        Assert.DoesNotContain("--epochs", options);
        Assert.Equal(["--times"], CommandLineCheck.Suggest("--tiems", options));
        Assert.Empty(CommandLineCheck.Suggest("--zzz", options));
    }
}
