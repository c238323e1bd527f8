namespace NeuralOde.Demo.Cli;

/// <summary>The command line is wrong: the app prints <c>Error: message</c> on stderr and exits with
/// <see cref="ExitCodes.Usage"/>.</summary>
/// <param name="message">One sentence saying what is wrong and what to do.</param>
internal sealed class UsageException(string message) : Exception(message);
