using NeuralOde.Solving;
using NeuralOde.Tableaux;
using static TorchSharp.torch;

namespace NeuralOde.Tests;

/// <summary>The C heap settings a solve makes on Linux with glibc (see <c>NativeHeap</c>).</summary>
[Collection("Torch")]
public sealed class NativeHeapTests
{
    [SkippableFact]
    public void ASolve_FixesTheMmapThreshold_AndRaisesTheTrimThreshold()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "glibc's allocator settings");
        Skip.If(Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_") is not null, "the process chose its own mmap threshold");
        using var scope = NewDisposeScope();
        using var solution = Ode.Solve(DormandPrince54.Scheme, (t, y) => y.neg(), ones(4, 2), 0.0, 1.0);
        Assert.True(solution.Succeeded);
        Assert.True(NativeHeap.Configured, "the mmap threshold was not fixed");

        // Fixing the mmap threshold also pins glibc's trim threshold at 128 KiB, which gives the top of the heap back
        // to the system on nearly every free of a state-sized tensor; the solver raises it to its own trim level.
        Assert.Equal(Environment.GetEnvironmentVariable("MALLOC_TRIM_THRESHOLD_") is null, NativeHeap.TrimThresholdRaised);
    }
}
