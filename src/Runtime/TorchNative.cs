using TorchSharp;

namespace NeuralOde;

/// <summary>
/// Loads TorchSharp's native library up front, so that a missing or incompatible libtorch shows up as one clear
/// sentence saying what to install instead of a long native-loader trace.
/// </summary>
public static class TorchNative
{
    /// <summary>Loads libtorch (for the CPU, and for CUDA when present).</summary>
    /// <exception cref="TorchNativeException">The native library could not be loaded; the message says what to install.</exception>
    public static void EnsureLoaded()
    {
        try
        {
            torch.InitializeDeviceType(DeviceType.CPU);
        }
        catch (Exception error) when (error is not TorchNativeException)
        {
            throw new TorchNativeException(Explain(error), error);
        }
    }

    /// <summary>Turns a native-load failure into one sentence that says what to install.</summary>
    /// <param name="error">The exception TorchSharp raised.</param>
    /// <returns>The explanation.</returns>
    public static string Explain(Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        var text = string.Join(" | ", Chain(error).Select(static e => e.Message));
        if (text.Contains("GLIBCXX", StringComparison.Ordinal) || text.Contains("CXXABI", StringComparison.Ordinal))
        {
            return "TorchSharp's native library needs libstdc++ from GCC 13 or newer (GLIBCXX_3.4.32): on Debian 12 run " +
                "'sudo bash scripts/install-prereqs.sh' (it installs libstdc++6 from Debian trixie); Ubuntu 24.04, " +
                "Debian 13 and Fedora 39+ already have it.";
        }

        return "TorchSharp's native library (libtorch) could not be loaded: the application must reference TorchSharp-cpu, " +
            "TorchSharp-cuda-linux or TorchSharp-cuda-windows (in this repository: -p:TorchBackend=cpu or cuda) so that its " +
            "native files are copied next to it " +
            $"(loader said: {FirstLine(text)}).";
    }

    private static IEnumerable<Exception> Chain(Exception error)
    {
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            yield return e;
        }
    }

    private static string FirstLine(string text)
    {
        var line = text.Split('\n')[0].Trim();
        return line.Length <= 300 ? line : line[..300] + "…";
    }
}

/// <summary>Thrown when TorchSharp's native library cannot be loaded; the message says what to install.</summary>
public sealed class TorchNativeException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">One sentence saying what to install.</param>
    /// <param name="inner">The loader's exception.</param>
    public TorchNativeException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
