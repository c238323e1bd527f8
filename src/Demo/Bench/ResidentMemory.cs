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

    /// <summary>Resets the peak mark to the current size and returns the current size in bytes.</summary>
    /// <returns>VmRSS in bytes, or null where the mark cannot be reset or the size not read.</returns>
    public static long? ResetBytes() => double.IsNaN(Reset()) ? null : Bytes("VmRSS:");

    /// <summary>The peak resident size since the last reset (or since the process started), in bytes.</summary>
    /// <returns>VmHWM in bytes, or null.</returns>
    public static long? PeakBytes() => Bytes("VmHWM:");

    private static long? Bytes(string field) => Read(field) is var mb && double.IsNaN(mb) ? null : (long)Math.Round(mb * 1024) * 1024;

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
