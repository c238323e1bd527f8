using Spectre.Console;
using TorchSharp;
using static TorchSharp.torch;

namespace NeuralOde.Demo.Cli;

/// <summary>Turns <c>--device cpu|cuda|auto</c> into a device, and applies <c>--threads</c>.</summary>
internal static class DeviceChoice
{
    /// <summary>Gets the default libtorch thread count: min(2, cores).</summary>
    public static int DefaultThreads => Math.Min(2, Environment.ProcessorCount);

    /// <summary>Resolves the device; CUDA falls back to the CPU with a message when it is not available.</summary>
    /// <param name="name">cpu, cuda (or cuda:N) or auto.</param>
    /// <param name="console">Where to write the fallback message.</param>
    /// <returns>The device.</returns>
    /// <exception cref="ArgumentException">An unknown name.</exception>
    public static Device Resolve(string name, IAnsiConsole console)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(console);
        var key = name.Trim().ToLowerInvariant();
        if (key == "cpu")
        {
            return CPU;
        }

        if (key != "auto" && key != "cuda" && !key.StartsWith("cuda:", StringComparison.Ordinal))
        {
            throw new ArgumentException($"Unknown --device '{name}': use cpu, cuda (or cuda:N) or auto.");
        }

        if (cuda.is_available())
        {
            return key == "auto" ? CUDA : new Device(key);
        }

        if (key != "auto")
        {
            console.WriteLine(
                "CUDA is not available, so training runs on the CPU: this build references TorchSharp-cpu " +
                "(build with -p:TorchBackend=cuda on a machine with an NVIDIA GPU and driver to use CUDA).");
        }

        return CPU;
    }

    /// <summary>Sets libtorch's intra-op thread count.</summary>
    /// <param name="threads">The count, or null for <see cref="DefaultThreads"/>.</param>
    /// <returns>The count set.</returns>
    public static int ApplyThreads(int? threads)
    {
        var n = threads ?? DefaultThreads;
        if (n < 1)
        {
            throw new ArgumentException($"--threads must be at least 1; got {n}.");
        }

        torch.set_num_threads(n);
        return n;
    }
}
