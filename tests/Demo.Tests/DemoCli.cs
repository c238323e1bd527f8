using NeuralOde.Demo.Cli;

namespace NeuralOde.Demo.Tests;

/// <summary>Runs the demo's command line in-process, with stdout and stderr captured apart.</summary>
internal static class DemoCli
{
    /// <summary>Runs a command line.</summary>
    /// <param name="args">The arguments.</param>
    /// <returns>The exit code, what went to stdout, and what went to stderr.</returns>
    public static (int Code, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = DemoApp.Run(args, Output.CreatePlain(output), error);
        return (code, output.ToString(), error.ToString());
    }

    /// <summary>Asserts a usage error: exit code 2, nothing on stdout, one <c>Error:</c> line on stderr that contains
    /// <paramref name="expected"/>.</summary>
    /// <param name="expected">Text the error line must contain.</param>
    /// <param name="args">The arguments.</param>
    /// <returns>The error line.</returns>
    public static string UsageError(string expected, params string[] args)
    {
        var (code, output, error) = Run(args);
        Assert.True(code == ExitCodes.Usage, $"exit code {code} for '{string.Join(' ', args)}'; stderr: {error}");
        Assert.Equal("", output);
        var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var line = Assert.Single(lines);
        Assert.StartsWith("Error: ", line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
        return line;
    }
}
