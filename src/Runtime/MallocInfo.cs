using System.Runtime.InteropServices;

namespace NeuralOde;

/// <summary>glibc's <c>struct mallinfo2</c> (glibc 2.33 and later): the main heap's statistics, in bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct MallocInfo
{
    /// <summary>Non-mmapped space allocated from the system.</summary>
    public nuint Arena;

    /// <summary>Number of free chunks.</summary>
    public nuint OrdinaryBlocks;

    /// <summary>Number of free fastbin blocks.</summary>
    public nuint SmallBlocks;

    /// <summary>Number of mmapped regions.</summary>
    public nuint MappedBlocks;

    /// <summary>Space allocated in mmapped regions.</summary>
    public nuint MappedBytes;

    /// <summary>Unused (always 0).</summary>
    public nuint MaxAllocated;

    /// <summary>Space in freed fastbin blocks.</summary>
    public nuint FreeSmallBytes;

    /// <summary>Total allocated space.</summary>
    public nuint AllocatedBytes;

    /// <summary>Total free space held in the heap.</summary>
    public nuint FreeBytes;

    /// <summary>Top-most, releasable space.</summary>
    public nuint KeepCost;
}
