using NeuralOde.Demo.Cli;

namespace NeuralOde.Demo.Tests;

/// <summary>The story's, train's and visualize's command lines on tiny runs.</summary>
[Collection("Torch")]
public sealed class StoryCommandLineTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("neuralode-cli-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private static (int Code, string Output) Run(params string[] args)
    {
        var writer = new StringWriter();
        var code = DemoApp.Run(args, Output.CreatePlain(writer));
        return (code, writer.ToString());
    }

    [Fact]
    public void TheDefaultCommandIsTheStory()
    {
        var (code, output) = Run("--help");

        Assert.Equal(0, code);
        Assert.Contains("The whole story", output, StringComparison.Ordinal);
        Assert.Contains("--ode-epochs", output, StringComparison.Ordinal);
        foreach (var command in new[] { "train", "visualize", "bench", "story" })
        {
            Assert.Contains(command, output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void ATinyStoryEndsWithTheTableAndTheFigurePaths()
    {
        var (code, output) = Run(
            "--data", TestData.Mnist, "--offline", "--out", folder, "--train-limit", "256", "--test-limit", "128", "--hidden", "8", "--width", "8",
            "--mlp-epochs", "1", "--ode-epochs", "1", "--fit", "100", "--samples", "2", "--threads", "1");

        Assert.Equal(0, code);
        Assert.DoesNotContain('\u001b', output);
        Assert.Contains("mlp epoch 1/1:", output, StringComparison.Ordinal);
        Assert.Contains("ode epoch 1/1:", output, StringComparison.Ordinal);
        Assert.Contains("| Model", output, StringComparison.Ordinal);
        Assert.Contains("NFE / forward", output, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(folder, "figures", "ode-trajectories.png"), output, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(folder, "summary.md")));

        // visualize finds the story's models and redraws with chosen inputs.
        var again = Run("visualize", "--data", TestData.Mnist, "--offline", "--run", folder, "--index", "3,4", "--fit", "100", "--test-limit", "128", "--out", Path.Combine(folder, "again"));
        Assert.Equal(0, again.Code);
        Assert.Contains("Highlighted test inputs: 3, 4.", again.Output, StringComparison.Ordinal);

        // A finished story resumes to nothing new; train refuses to overwrite a run without --resume.
        var resumed = Run(
            "--data", TestData.Mnist, "--offline", "--out", folder, "--resume", "--train-limit", "256", "--test-limit", "128", "--hidden", "8", "--width", "8",
            "--mlp-epochs", "1", "--ode-epochs", "1", "--fit", "100", "--samples", "2", "--threads", "1");
        Assert.Equal(0, resumed.Code);
        Assert.DoesNotContain("epoch 1/1:", resumed.Output, StringComparison.Ordinal);
        Assert.Contains("Resumed", resumed.Output, StringComparison.Ordinal);
        var existing = Path.Combine(folder, "mlp");
        var (refused, refusedOutput, refusedError) = DemoCli.Run("train", "--data", TestData.Mnist, "--offline", "--model", "mlp", "--out", existing, "--train-limit", "256", "--test-limit", "128", "--hidden", "8", "--width", "8", "--epochs", "1");
        Assert.Equal(2, refused);
        Assert.StartsWith($"Error: {existing} already holds a training run (epoch 1 of 1): add --resume to continue it", refusedError, StringComparison.Ordinal);
        Assert.DoesNotContain("epoch 1/1:", refusedOutput, StringComparison.Ordinal);
    }

    [Fact]
    public void BadOptionsAreUsageErrors()
    {
        DemoCli.UsageError("Unknown --model 'cnn': use ode or mlp.", "train", "--model", "cnn");
        Assert.Equal("Error: Unknown dataset 'cifar'. Known: mnist, fashion-mnist.", DemoCli.UsageError("cifar", "train", "--dataset", "cifar"));
        DemoCli.UsageError("Unknown Runge–Kutta scheme 'nope'. Known schemes: BS32,", "train", "--scheme", "nope");
        DemoCli.UsageError("--resume needs --out DIR: the folder of the run to continue.", "train", "--resume");
        DemoCli.UsageError("--times must be at least 50 (got 10).", "visualize", "--times", "10");
        DemoCli.UsageError($"{folder} holds neither mlp/ nor ode/ with a trained model.", "visualize", "--run", folder);
    }
}
