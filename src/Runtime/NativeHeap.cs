using System.Runtime.InteropServices;

namespace NeuralOde;

/// <summary>
/// Keeps the C heap of a long run of solves from growing without bound on Linux with glibc, by fixing glibc's mmap
/// threshold at 1 MiB instead of letting it rise to the size of the largest tensor freed, and by giving free heap
/// memory back to the system once more than 64 MiB of it has piled up (and not before: glibc's trim threshold is
/// raised to the same 64 MiB).
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
/// Setting the threshold (as <c>MALLOC_MMAP_THRESHOLD_=1048576</c> would) turns the adaptation off: blocks of 1 MiB
/// and more are mapped and unmapped again. Smaller blocks (a network's activations, the states of small batches) stay
/// on the heap, where they are reused without a system call and a page fault per tensor (at glibc's default of 128 KiB,
/// every <c>[1024, 64]</c> float32 activation was mapped afresh, which made <c>mlp_d64_h64_b1024</c> 1.5–2× slower);
/// since their holes can still go unused for a while, every 16th solve reads the heap's free space
/// (<c>mallinfo2</c>) and, above 64 MiB, hands it back (<c>malloc_trim</c>), so resident memory stays within that
/// of its level. The setting is process-wide, so it is made once, only on glibc, and never when the process already
/// chose: when <c>MALLOC_MMAP_THRESHOLD_</c> is set, or when the <c>AppContext</c> switch
/// <c>NeuralOde.KeepMallocSettings</c> is on (set it before the first solve).
/// </para>
/// <para>
/// Fixing the mmap threshold also fixes glibc's trim threshold, at its default of 128 KiB: every <c>free</c> that leaves
/// more than that free at the top of the heap gives it back to the system, and the next tensor allocated there faults
/// its pages in afresh. A solver step frees and allocates state-sized tensors all the time, so at 128 KiB a
/// <c>[1024, 64]</c> float32 MLP solve spent about 1.2 ms of its 10 ms in page faults and in dynamics evaluations
/// slowed by them. The trim threshold is therefore raised to <see cref="TrimAboveFreeBytes"/> (unless
/// <c>MALLOC_TRIM_THRESHOLD_</c> is set): the free space at the top stays for reuse, and <see cref="AfterSolve"/>
/// still hands free memory back once more than that has piled up.
/// </para>
/// </remarks>
internal static class NativeHeap
{
    /// <summary>The threshold set, in bytes.</summary>
    public const int MmapThresholdBytes = 1024 * 1024;

    /// <summary>The free heap space, in bytes, above which it is handed back to the system after a solve.</summary>
    public const long TrimAboveFreeBytes = 64L << 20;

    // How often (in solves) the heap's free space is read.
    private const int SolvesPerCheck = 16;

    /// <summary>The name of the <c>AppContext</c> switch that leaves glibc's settings alone.</summary>
    public const string KeepSettingsSwitch = "NeuralOde.KeepMallocSettings";

    private const int MmapThresholdParameter = -3; // M_MMAP_THRESHOLD in <malloc.h>
    private const int TrimThresholdParameter = -1; // M_TRIM_THRESHOLD in <malloc.h>

    private static int applied;
    private static int solves;
    private static bool canTrim = true;

    /// <summary>Gets whether this process's glibc mmap threshold was fixed by <see cref="EnsureConfigured"/>.</summary>
    public static bool Configured { get; private set; }

    /// <summary>Gets whether <see cref="EnsureConfigured"/> also raised glibc's trim threshold to
    /// <see cref="TrimAboveFreeBytes"/>.</summary>
    public static bool TrimThresholdRaised { get; private set; }

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
                if (Configured && Environment.GetEnvironmentVariable("MALLOC_TRIM_THRESHOLD_") is null)
                {
                    TrimThresholdRaised = Mallopt(TrimThresholdParameter, (int)TrimAboveFreeBytes) == 1;
                }
            }
        }
        catch (Exception error) when (error is DllNotFoundException or EntryPointNotFoundException)
        {
            // Not glibc: nothing to do.
        }
    }

    /// <summary>After a solve: every 16th time, hands the heap's free space back to the system when more than
    /// <see cref="TrimAboveFreeBytes"/> of it has piled up (only where <see cref="EnsureConfigured"/> set the
    /// threshold).</summary>
    public static void AfterSolve()
    {
        if (!Configured || !canTrim || Interlocked.Increment(ref solves) % SolvesPerCheck != 0)
        {
            return;
        }

        try
        {
            if ((long)MallInfo2().FreeBytes > TrimAboveFreeBytes)
            {
                _ = MallocTrim(0);
            }
        }
        catch (Exception error) when (error is DllNotFoundException or EntryPointNotFoundException)
        {
            // glibc before 2.33 has no mallinfo2: the threshold alone applies.
            canTrim = false;
        }
    }

    [DllImport("libc", EntryPoint = "mallinfo2", ExactSpelling = true)]
    private static extern MallocInfo MallInfo2();

    [DllImport("libc", EntryPoint = "malloc_trim", ExactSpelling = true)]
    private static extern int MallocTrim(nuint pad);

    [DllImport("libc", EntryPoint = "mallopt", ExactSpelling = true)]
    private static extern int Mallopt(int parameter, int value);

    [DllImport("libc", EntryPoint = "gnu_get_libc_version", ExactSpelling = true)]
    private static extern nint GnuGetLibcVersion();
}
