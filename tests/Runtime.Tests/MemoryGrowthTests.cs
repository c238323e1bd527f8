using NeuralOde.Solving;
using NeuralOde.Tableaux;
using TorchSharp;
using static TorchSharp.torch;

namespace NeuralOde.Tests;

/// <summary>
/// A long run of solves keeps its resident memory level, whether the solves succeed or their dynamics throw. Without
/// <c>NativeHeap</c>'s setting a loop of <c>[20000, 50]</c> float64 solves grew by about 100 MB per solve (glibc's heap
/// could not reuse the holes that libtorch's aligned tensor blocks left) while the live tensor count stayed constant,
/// so the test reads the process's resident set, not the tensors.
/// </summary>
[Collection("Torch")]
public sealed class MemoryGrowthTests
{
    // Half the state of issue 12 (4 MB in float64, to keep the test short; the growth does not depend on the size once
    // a state is above glibc's default mmap threshold of 128 KiB); DOPRI5 at rtol 1e-6 over [0, 1].
    private const long Rows = 10000;
    private const long Width = 50;
    private const int Warmup = 5;
    private const int Solves = 20;
    private const double AllowedGrowth = 0.15;

    private static readonly SolverOptions Options = SolverOptions.Adaptive(1e-6, 1e-6);

    // One test for both loops, the failing one first: a heap that an earlier loop already grew has room to spare for a
    // while, so each loop's growth only shows when it runs on a heap that has not been grown.
    [SkippableFact]
    public void RepeatedSolves_FailingOrSuccessful_KeepResidentMemoryLevel()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "reads /proc/self/status");
        using var y0 = Y0();
        var failing = Measure(() =>
        {
            // Fails in the third step, with the step's stages and the solver's state allocated.
            var calls = 0;
            var error = Assert.Throws<InvalidOperationException>(() => Ode.Solve(
                DormandPrince54.Scheme,
                (t, y) => ++calls == 16 ? throw new InvalidOperationException("dynamics failed") : y.neg(),
                y0,
                0.0,
                1.0,
                Options));
            Assert.Equal("dynamics failed", error.Message);
        });
        var successful = Measure(() =>
        {
            using var solution = Ode.Solve(DormandPrince54.Scheme, (t, y) => y.neg(), y0, 0.0, 1.0, Options);
            Assert.True(solution.Succeeded);
        });

        var report = $"resident memory after solve {Warmup} → {Solves}: failing dynamics {failing.Before} → {failing.After} MB, " +
            $"successful {successful.Before} → {successful.After} MB";
        Assert.True(failing.After <= failing.Before * (1 + AllowedGrowth) && successful.After <= successful.Before * (1 + AllowedGrowth), report);
        Assert.Equal(failing.LiveBefore, failing.LiveAfter);
        Assert.Equal(successful.LiveBefore, successful.LiveAfter);
    }

    private static Tensor Y0()
    {
        using var scope = NewDisposeScope();
        return randn(new[] { Rows, Width }, dtype: ScalarType.Float64, generator: new Generator(12)).MoveToOuterDisposeScope();
    }

    // Resident memory (MB) and live tensors after the warm-up solves and after the last one.
    private static (long Before, long After, long LiveBefore, long LiveAfter) Measure(Action solve)
    {
        long before = 0, liveBefore = 0;
        for (var i = 1; i <= Solves; i++)
        {
            solve();
            if (i == Warmup)
            {
                (before, liveBefore) = (ResidentMegabytes(), DisposeScopeManager.Statistics.ThreadTotalLiveCount);
            }
        }

        return (before, ResidentMegabytes(), liveBefore, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    private static long ResidentMegabytes()
    {
        // Managed garbage is not what this measures: collect it so that finalizers do not blur the native heap.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var line = File.ReadLines("/proc/self/status").First(static l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024;
    }
}
