namespace NeuralOde.Solving;

/// <summary>
/// The grid of a fixed-step solve, per row: <see cref="Steps"/> equal steps over each row's span, or steps of
/// size <see cref="Dt"/> with the last one shortened to land on the row's t1. Rows with shorter spans under a
/// fixed <see cref="Dt"/> finish in fewer iterations.
/// </summary>
internal sealed class FixedStepPlan
{
    private FixedStepPlan(int? steps, double? dt, long iterations)
    {
        Steps = steps;
        Dt = dt;
        Iterations = iterations;
    }

    /// <summary>Gets the number of equal steps per row, or null.</summary>
    public int? Steps { get; }

    /// <summary>Gets the step magnitude, or null.</summary>
    public double? Dt { get; }

    /// <summary>Gets the number of iterations the longest row needs.</summary>
    public long Iterations { get; }

    /// <summary>Plans a fixed-step solve over the given spans.</summary>
    /// <param name="options">Options with <see cref="SolverOptions.Steps"/> or <see cref="SolverOptions.Dt"/>.</param>
    /// <param name="spans">Each row's span magnitude |t1 − t0|, float64 on the CPU.</param>
    /// <returns>The plan.</returns>
    /// <exception cref="ArgumentException">The grid needs more than <see cref="SolverOptions.MaxSteps"/> steps.</exception>
    public static FixedStepPlan Create(SolverOptions options, double[] spans)
    {
        long iterations;
        if (options.Steps is int n)
        {
            iterations = n;
        }
        else
        {
            var longest = spans.Length == 0 ? 0 : spans.Max();
            iterations = Math.Max(1, (long)StepCount(longest, options.Dt!.Value));
        }

        if (iterations > options.MaxSteps)
        {
            var what = options.Steps is not null ? $"Steps = {options.Steps}" : $"Dt = {options.Dt} needs {iterations} steps, which";
            throw new ArgumentException(
                $"{what} is more than MaxSteps = {options.MaxSteps}; raise MaxSteps (it bounds the steps of every solve, fixed or adaptive).",
                nameof(options));
        }

        return new FixedStepPlan(options.Steps, options.Dt, iterations);
    }

    /// <summary>The next step of every row of the work set: for a row that has taken k steps, its grid point k + 1
    /// of its own span, exactly t1 for its last step.</summary>
    /// <param name="work">The work set.</param>
    /// <param name="attempt">Receives each row's step, last-step flag and end time.</param>
    public void Next(WorkRows work, StepAttempt attempt)
    {
        for (var i = 0; i < attempt.Width; i++)
        {
            var k = work.Attempts[i];
            var span = work.T1[i] - work.T0[i];
            bool last;
            double to;
            if (Steps is int n)
            {
                last = k + 1 >= n;
                to = (span * (k + 1) / n) + work.T0[i];
            }
            else
            {
                var dt = Dt!.Value;
                var count = Math.Max(Math.Ceiling(Math.Abs(span) / dt * (1 - 1e-12)), 1.0);
                last = count <= k + 1;
                to = (work.Direction[i] * (dt * (k + 1))) + work.T0[i];
            }

            var tEnd = last ? work.T1[i] : to;
            attempt.Last[i] = last;
            attempt.TEnd[i] = tEnd;
            attempt.Dt[i] = tEnd - work.T[i];
        }
    }

    // The number of steps of size dt over a span (the last one shortened; a tiny overshoot from rounding is not a step).
    private static double StepCount(double span, double dt) => Math.Ceiling(span / dt * (1 - 1e-12));
}
