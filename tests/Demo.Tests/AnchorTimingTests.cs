using NeuralOde.Demo.Bench;
using NeuralOde.Modules;
using NeuralOde.Solving;

namespace NeuralOde.Demo.Tests;

/// <summary>
/// <c>bench --anchor-repeats</c> times as many repeats as the anchors' harness would (bench_common.run_case): so that
/// a side-by-side run's medians come from the same protocol on every side.
/// </summary>
[Collection("Torch")]
public sealed class AnchorTimingTests
{
    [Theory]
    [InlineData(7, 0.5, 3, 3)] // slow: at most the slow repeats
    [InlineData(7, 0.5, 7, 7)] // slow, with --slow-repeats 7 (as the side-by-side script runs the anchors)
    [InlineData(2, 0.5, 3, 2)] // slow, fewer requested than the slow repeats
    [InlineData(7, 0.01, 3, 25)] // fast: 0.25 s / 0.01 s
    [InlineData(7, 0.0071, 3, 30)] // fast: 36 capped at 30
    [InlineData(7, 0.036, 3, 7)] // 7 × 0.036 s ≥ 0.25 s: as requested
    [InlineData(40, 0.001, 3, 30)] // fast, more requested than the cap: the cap (as the anchors do)
    [InlineData(0, 0.001, 3, 0)] // no timing stays no timing
    public void Repeats_FollowTheAnchorsRule(int requested, double firstRunSeconds, int slowRepeats, int expected) =>
        Assert.Equal(expected, AnchorTiming.Repeats(requested, firstRunSeconds, slowRepeats));

    [Fact]
    public void AFastCase_IsRepeatedUntilItsRepeatsFillTheMinimumTime()
    {
        using var problem = BenchData.LoadProblem(BenchFolder.Path, "expdecay");
        using var dynamics = BenchDynamics.Create(problem);
        var fixedRepeats = new BenchRunner(repeats: 2, warmup: 0).Run(problem, dynamics, new BenchCase { Scheme = Schemes.Get("DOPRI5") });
        var anchorRepeats = new BenchRunner(repeats: 2, warmup: 0, anchorRepeats: true).Run(problem, dynamics, new BenchCase { Scheme = Schemes.Get("DOPRI5") });

        Assert.Equal(2, fixedRepeats.Repeats);
        Assert.Equal(2, fixedRepeats.WallMs.Length);

        // A solve of this problem takes well under 0.25 s / 2: more repeats, at most 30, every one timed with its floor.
        Assert.InRange(anchorRepeats.Repeats, 3, AnchorTiming.MaxRepeats);
        Assert.Equal(anchorRepeats.Repeats, anchorRepeats.WallMs.Length);
        Assert.Equal(anchorRepeats.Repeats, anchorRepeats.FloorMs.Length);
    }
}
