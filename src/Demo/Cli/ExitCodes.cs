namespace NeuralOde.Demo.Cli;

/// <summary>The demo's exit codes (listed by every <c>--help</c>).</summary>
internal static class ExitCodes
{
    /// <summary>The command did what it was asked.</summary>
    public const int Success = 0;

    /// <summary>A runtime failure: missing or corrupt data, a failed solve, an I/O error, a native library that does not load.</summary>
    public const int Failure = 1;

    /// <summary>A usage error: an unknown option or command, a stray argument, a bad option value.</summary>
    public const int Usage = 2;

    /// <summary>Training was stopped by Ctrl+C between batches; the run can be continued with <c>--resume</c>.</summary>
    public const int Interrupted = 130;

    /// <summary>The text of the help's EXIT CODES section, one line per code.</summary>
    public static readonly IReadOnlyList<(int Code, string Meaning)> Meanings =
    [
        (Success, "success"),
        (Failure, "runtime failure (data missing or corrupt, failed solve, I/O error)"),
        (Usage, "usage error (unknown option or command, stray argument, bad value)"),
        (Interrupted, "interrupted by Ctrl+C (continue with --resume)"),
    ];
}
