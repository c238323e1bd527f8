namespace NeuralOde.Demo.Bench;

/// <summary>
/// How many timed repeats a case gets under the anchors' own rule (<c>run_case</c> in
/// <c>../shared/anchors/bench_common.py</c>), so that a side-by-side run times every library alike: a case whose first
/// run takes longer than <see cref="SlowSeconds"/> gets at most the slow repeats (<see cref="SlowRepeats"/> unless
/// given, as the anchors' <c>--slow-repeats</c>); a fast one, whose requested
/// repeats would take less than <see cref="MinTotalSeconds"/> in all, gets enough to fill that time, at most
/// <see cref="MaxRepeats"/> (cheaper and steadier medians).
/// </summary>
internal static class AnchorTiming
{
    /// <summary>A first run longer than this (seconds) marks a slow case (the anchors' <c>--slow-s</c> default).</summary>
    public const double SlowSeconds = 0.4;

    /// <summary>The most repeats of a slow case (the anchors' <c>--slow-repeats</c> default).</summary>
    public const int SlowRepeats = 3;

    /// <summary>The least total time (seconds) the timed repeats of a fast case take.</summary>
    public const double MinTotalSeconds = 0.25;

    /// <summary>The most repeats of a fast case.</summary>
    public const int MaxRepeats = 30;

    /// <summary>The timed repeats of a case.</summary>
    /// <param name="requested">The repeats asked for; 0 (no timing) stays 0.</param>
    /// <param name="firstRunSeconds">The wall time of the case's first, untimed run.</param>
    /// <param name="slowRepeats">The most repeats of a slow case.</param>
    /// <returns>The repeats to time.</returns>
    public static int Repeats(int requested, double firstRunSeconds, int slowRepeats = SlowRepeats)
    {
        if (requested <= 0)
        {
            return requested;
        }

        if (firstRunSeconds > SlowSeconds)
        {
            return Math.Min(requested, slowRepeats);
        }

        return firstRunSeconds * requested < MinTotalSeconds
            ? Math.Min(MaxRepeats, (int)Math.Ceiling(MinTotalSeconds / Math.Max(firstRunSeconds, 1e-6)))
            : requested;
    }
}
