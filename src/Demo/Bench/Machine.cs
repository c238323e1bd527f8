using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using TorchSharp;

namespace NeuralOde.Demo.Bench;

/// <summary>Reads the facts about the machine that belong beside a benchmark table.</summary>
internal static class Machine
{
    /// <summary>Returns /proc/loadavg's three load averages, or "n/a" where the file does not exist.</summary>
    /// <returns>For example <c>1.87 1.10 0.50</c>.</returns>
    public static string LoadAverage()
    {
        try
        {
            var fields = File.ReadAllText("/proc/loadavg").Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return fields.Length >= 3 ? string.Join(' ', fields[..3]) : "n/a";
        }
        catch (IOException)
        {
            return "n/a";
        }
        catch (UnauthorizedAccessException)
        {
            return "n/a";
        }
    }

    /// <summary>Returns /proc/loadavg's 1-minute load average, or null where it cannot be read.</summary>
    /// <returns>For example <c>1.87</c>.</returns>
    public static double? LoadAverage1Min() =>
        LoadAverage().Split(' ')[0] is var first && double.TryParse(first, NumberStyles.Float, CultureInfo.InvariantCulture, out var load) ? load : null;

    /// <summary>Returns the CPU model from /proc/cpuinfo, or "unknown".</summary>
    /// <returns>The model name.</returns>
    public static string CpuModel()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
            {
                if (line.StartsWith("model name", StringComparison.Ordinal) && line.IndexOf(':') is var colon and >= 0)
                {
                    return line[(colon + 1)..].Trim();
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return "unknown";
    }

    /// <summary>Returns TorchSharp's version (informational, else assembly version).</summary>
    /// <returns>For example <c>0.107.0</c>.</returns>
    public static string TorchSharpVersion()
    {
        var assembly = typeof(torch).Assembly;
        var informational = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        var version = informational ?? assembly.GetName().Version?.ToString() ?? "unknown";
        var plus = version.IndexOf('+', StringComparison.Ordinal);
        return plus >= 0 ? version[..plus] : version;
    }

    /// <summary>Describes the machine now.</summary>
    /// <returns>The description, with the load average before the run.</returns>
    public static MachineInfo Describe() => new()
    {
        Cpu = CpuModel(),
        LogicalCores = Environment.ProcessorCount,
        Os = RuntimeInformation.OSDescription,
        Dotnet = RuntimeInformation.FrameworkDescription,
        TorchSharp = TorchSharpVersion(),
        Threads = torch.get_num_threads(),
        LoadAverageBefore = LoadAverage(),
    };
}
