using System.Globalization;

namespace NeuralOde.Demo.Bench;

/// <summary>
/// The process's resident memory from Linux's /proc: the current size (VmRSS) and the peak (VmHWM), whose mark can
/// be reset (writing 5 to /proc/self/clear_refs), so that the peak of one pass can be measured. NaN elsewhere.
/// </summary>
internal static class ResidentMemory
{
    /// <summary>Resets the peak mark to the current size and returns the current size in MB.</summary>
    /// <returns>VmRSS in MB, or NaN.</returns>
    public static double Reset()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            return double.NaN;
        }

        return Read("VmRSS:");
    }

    /// <summary>The peak resident size since the last <see cref="Reset"/>, in MB.</summary>
    /// <returns>VmHWM in MB, or NaN.</returns>
    public static double PeakMb() => Read("VmHWM:");

    private static double Read(string field)
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith(field, StringComparison.Ordinal))
                {
                    var kilobytes = line[field.Length..].Trim().Split(' ')[0];
                    return double.Parse(kilobytes, CultureInfo.InvariantCulture) / 1024;
                }
            }
        }
        catch (IOException)
        {
        }

        return double.NaN;
    }
}
