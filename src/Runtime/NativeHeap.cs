using System.Runtime.InteropServices;

namespace NeuralOde;

/// <summary>
/// Keeps the C heap of a long run of solves from growing without bound on Linux with glibc, by fixing glibc's mmap
/// threshold at its documented default (128 KiB) instead of letting it rise to the size of the largest tensor freed.
/// </summary>
/// <remarks>
/// <para>
/// libtorch allocates every CPU tensor with <c>posix_memalign(64, n)</c>. glibc serves large blocks with their own
/// <c>mmap</c>, returned to the system on free, until the first such block is freed: it then raises its threshold to
/// that block's size (up to 32 MiB), so from then on state-sized tensors come from the heap. There an aligned request
/// needs <c>n + 64 + 32</c> contiguous free bytes, while the hole a freed tensor leaves between live blocks is
/// <c>n + 16</c> bytes, cut further by the small leader and trailer blocks that every aligned split gives back; a
/// solver's mix of state-sized tensors (its own and the dynamics') and <c>[B]</c>-sized control tensors therefore
/// takes fresh memory from the top of the heap while the holes stay unused. A loop of 200 solves of a
/// <c>[20000, 50]</c> float64 state grew to 17.7 GB this way with a constant number of live tensors; the growth does not
/// depend on the solver keeping anything (a plain loop of tensor operations of the same sizes grows alike).
/// </para>
/// <para>
/// Setting the threshold (as <c>MALLOC_MMAP_THRESHOLD_=131072</c> would) turns the adaptation off: blocks of 128 KiB
/// and more are mapped and unmapped again, and resident memory stays level. The setting is process-wide, so it is made
/// once, only on glibc, and never when the process already chose: when <c>MALLOC_MMAP_THRESHOLD_</c> is set, or when
/// the <c>AppContext</c> switch <c>NeuralOde.KeepMallocSettings</c> is on (set it before the first solve).
/// </para>
/// </remarks>
internal static class NativeHeap
{
    /// <summary>The threshold set, in bytes: glibc's own default.</summary>
    public const int MmapThresholdBytes = 128 * 1024;

    /// <summary>The name of the <c>AppContext</c> switch that leaves glibc's settings alone.</summary>
    public const string KeepSettingsSwitch = "NeuralOde.KeepMallocSettings";

    private const int MmapThresholdParameter = -3; // M_MMAP_THRESHOLD in <malloc.h>

    private static int applied;

    /// <summary>Gets whether this process's glibc mmap threshold was fixed by <see cref="EnsureConfigured"/>.</summary>
    public static bool Configured { get; private set; }

    /// <summary>Fixes glibc's mmap threshold once per process, unless the process already chose (see remarks).</summary>
    public static void EnsureConfigured()
    {
        if (Volatile.Read(ref applied) != 0 || Interlocked.Exchange(ref applied, 1) != 0 || !OperatingSystem.IsLinux())
        {
            return;
        }

        if (Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_") is not null
            || (AppContext.TryGetSwitch(KeepSettingsSwitch, out var keep) && keep))
        {
            return;
        }

        try
        {
            // gnu_get_libc_version exists only in glibc: other C libraries (musl) keep their own allocator's rules.
            if (GnuGetLibcVersion() != 0)
            {
                Configured = Mallopt(MmapThresholdParameter, MmapThresholdBytes) == 1;
            }
        }
        catch (Exception error) when (error is DllNotFoundException or EntryPointNotFoundException)
        {
            // Not glibc: nothing to do.
        }
    }

    [DllImport("libc", EntryPoint = "mallopt", ExactSpelling = true)]
    private static extern int Mallopt(int parameter, int value);

    [DllImport("libc", EntryPoint = "gnu_get_libc_version", ExactSpelling = true)]
    private static extern nint GnuGetLibcVersion();
}
