using NeuralOde.Solving;
using static TorchSharp.torch;

namespace NeuralOde.Tests.Examples;

/// <summary>The bouncing-ball example of docs/events.md (the page shows this file's code; a test checks both).</summary>
public static class BouncingBall
{
    /// <summary>Drops one ball per height and returns each ball's first bounce times.</summary>
    /// <param name="heights">The starting heights, one ball (row) each.</param>
    /// <param name="restitution">The fraction of its speed a ball keeps at each bounce.</param>
    /// <param name="bounces">How many bounces to simulate.</param>
    /// <returns>For each ball, its bounce times.</returns>
    public static double[][] BounceTimes(double[] heights, double restitution, int bounces)
    {
        const double Gravity = 9.81;
        using var scope = NewDisposeScope();
        var rows = heights.Length;

        // y = [height, velocity] per row; each row keeps its own clock.
        var y = stack([tensor(heights, dtype: ScalarType.Float64), zeros(rows, dtype: ScalarType.Float64)], 1);
        var t = zeros(rows, dtype: ScalarType.Float64);
        var end = full(rows, 1e3, dtype: ScalarType.Float64);
        var options = SolverOptions.Adaptive(1e-10, 1e-12) with
        {
            // Stop each row where its height falls through zero.
            Event = new EventFunction((time, state) => state[.., 0], EventDirection.Falling),
        };

        var times = Enumerable.Range(0, rows).Select(_ => new List<double>()).ToArray();
        for (var bounce = 0; bounce < bounces; bounce++)
        {
            using var solution = Ode.Solve(
                "dopri5",
                (time, state) => stack([state[.., 1], full_like(state[.., 1], -Gravity)], 1),
                y,
                t,
                end,
                options);
            var eventTimes = solution.EventTimes!.data<double>().ToArray();
            for (var row = 0; row < rows; row++)
            {
                times[row].Add(eventTimes[row]);
            }

            // Each ball leaves the floor with its velocity reversed and scaled by the restitution, from its own time.
            y = stack([solution.Y[.., 0], solution.Y[.., 1].mul(-restitution)], 1);
            t = solution.T.clone();
        }

        return [.. times.Select(static list => list.ToArray())];
    }
}
