using System.Diagnostics;
using System.Runtime.InteropServices;

namespace NeuralOde.Demo.Bench;

/// <summary>
/// The CPU time of the calling thread. With one libtorch thread every op runs on the calling thread, so this is the
/// work of a solve without the time the thread spent descheduled: on a shared machine it is far steadier than wall
/// time. Linux only (clock_gettime(CLOCK_THREAD_CPUTIME_ID)); elsewhere it falls back to the wall clock.
/// </summary>
internal static partial class ThreadClock
{
    private const int ClockThreadCpuTimeId = 3;

    private static readonly bool Available = Probe();

    /// <summary>Gets whether thread CPU time is measured (else the wall clock stands in).</summary>
    public static bool IsThreadCpuTime => Available;

    /// <summary>Returns the calling thread's CPU time in milliseconds (or a wall-clock reading when unavailable).</summary>
    /// <returns>Milliseconds from an arbitrary origin.</returns>
    public static double NowMs()
    {
        if (Available && ClockGetTime(ClockThreadCpuTimeId, out var spec) == 0)
        {
            return (spec.Seconds * 1e3) + (spec.Nanoseconds * 1e-6);
        }

        return Stopwatch.GetTimestamp() * 1e3 / Stopwatch.Frequency;
    }

    private static bool Probe()
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture is not (Architecture.X64 or Architecture.Arm64))
        {
            return false;
        }

        try
        {
            return ClockGetTime(ClockThreadCpuTimeId, out _) == 0;
        }
        catch (DllNotFoundException)
        {
            return false;
        }
        catch (EntryPointNotFoundException)
        {
            return false;
        }
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clockId, out TimeSpec spec);

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}
