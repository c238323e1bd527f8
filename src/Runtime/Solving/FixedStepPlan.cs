using static TorchSharp.torch;

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

    /// <summary>The step of iteration <paramref name="k"/> for every row of the work set.</summary>
    /// <param name="k">The iteration, from 0.</param>
    /// <param name="work">The work set (its T, T0, T1 and Direction are read).</param>
    /// <returns>The signed step <c>[W]</c>, whether it is the row's last <c>[W]</c> bool, and its end time <c>[W]</c>.</returns>
    public (Tensor Dt, Tensor Last, Tensor TEnd) Next(long k, WorkRows work)
    {
        var span = work.T1.sub(work.T0);
        Tensor last, to;
        if (Steps is int n)
        {
            last = full(work.Count, k + 1 >= n, dtype: ScalarType.Bool, device: span.device);
            to = span.mul((double)(k + 1)).div_((double)n).add_(work.T0);
        }
        else
        {
            var dt = Dt!.Value;
            var count = span.abs().div(dt).mul_(1 - 1e-12).ceil_().clamp_min_(1.0);
            last = count.le((double)(k + 1));
            to = work.Direction.mul(dt * (k + 1)).add_(work.T0);
        }

        var tEnd = where(last, work.T1, to);
        return (tEnd.sub(work.T), last, tEnd);
    }

    // The number of steps of size dt over a span (the last one shortened; a tiny overshoot from rounding is not a step).
    private static double StepCount(double span, double dt) => Math.Ceiling(span / dt * (1 - 1e-12));
}
