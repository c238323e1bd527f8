using NeuralOde.Stepping;
using TorchSharp;
using static TorchSharp.torch;

namespace NeuralOde.Solving.Control;

/// <summary>
/// The per-row step-size control of an adaptive solve, on <c>[W]</c> vectors: the error norm, the initial step
/// (Hairer–Nørsett–Wanner), the I/PI/PID update with its clamps, and the rows whose step can no longer shrink or
/// no longer moves the clock. It decides; the solver loop applies its decisions.
/// </summary>
/// <remarks>
/// Every operation is elementwise or a reduction within a row (and powers go through <see cref="RowwisePow"/>),
/// so a row's steps do not depend on the other rows of the batch, except under
/// <see cref="SolverOptions.SharedStepSize"/>, where they are one step by design. Times and steps are float64;
/// error norms are in the state's dtype.
/// </remarks>
internal sealed class StepController
{
    // A step smaller than this many units of float64 rounding of |t| no longer moves the clock reliably.
    internal const double ClockSpacing = 4 * 2.220446049250313e-16;

    private readonly StepSizeController settings;
    private readonly double beta1;
    private readonly double beta2;
    private readonly double beta3;
    private readonly double dtMin;
    private readonly double dtMax;
    private readonly bool shared;
    private readonly int order;

    /// <summary>Creates the control of one solve.</summary>
    /// <param name="settings">The controller's coefficients, safety and factor bounds (already validated).</param>
    /// <param name="order">The scheme's order (for the initial step).</param>
    /// <param name="errorOrder">min(order, embedded order): the error estimate is O(h^(errorOrder + 1)).</param>
    /// <param name="dtMin">The smallest step magnitude.</param>
    /// <param name="dtMax">The largest step magnitude.</param>
    /// <param name="shared">Whether all rows share one step size.</param>
    public StepController(StepSizeController settings, int order, int errorOrder, double dtMin, double dtMax, bool shared)
    {
        this.settings = settings;
        var k = errorOrder + 1.0;
        beta1 = (settings.PCoefficient + settings.ICoefficient + settings.DCoefficient) / k;
        beta2 = -(settings.PCoefficient + (2 * settings.DCoefficient)) / k;
        beta3 = settings.DCoefficient / k;
        this.order = order;
        this.dtMin = dtMin;
        this.dtMax = dtMax;
        this.shared = shared;
    }

    /// <summary>The RMS over each row of err / (atol + rtol·max(|y|, |y1|)).</summary>
    /// <param name="error">The step's error estimate, <c>[W, ...]</c>.</param>
    /// <param name="y">The state at the step's start, <c>[W, ...]</c>.</param>
    /// <param name="y1">The step's new state, <c>[W, ...]</c>.</param>
    /// <param name="rtol">Each row's relative tolerance, <c>[W, 1, …]</c> (broadcastable).</param>
    /// <param name="atol">Each row's absolute tolerance, <c>[W, 1, …]</c>.</param>
    /// <param name="pureRelative">Whether some atol is 0, where 0/0 (an exactly zero state and error) counts as 0.</param>
    /// <returns>The norms, <c>[W]</c>, in the state's dtype.</returns>
    public static Tensor ErrorNorm(Tensor error, Tensor y, Tensor y1, Tensor rtol, Tensor atol, bool pureRelative)
    {
        var scale = y.abs().maximum(y1.abs()).mul_(rtol).add_(atol);
        return RmsRows(pureRelative ? SafeDivide(error, scale) : error.div(scale));
    }

    /// <summary>
    /// With a shared step size: one norm for the batch, the RMS over all elements of the running rows whose step is
    /// finite (plus any channel integrated outside the state, such as an adjoint's parameter gradient). A row that is
    /// not finite makes the whole batch reject, so that the step shrinks for every row.
    /// </summary>
    /// <param name="norms">Each row's norm; overwritten with the batch norm.</param>
    /// <param name="rowFinite">Whether each row's step is finite.</param>
    /// <param name="active">Which rows are running.</param>
    /// <param name="elementsPerRow">The number of state elements per row.</param>
    /// <param name="extra">A sum of squared scaled errors and its element count to add, or null.</param>
    /// <returns>Whether the batch step is finite.</returns>
    public static bool SharedNorm(Span<double> norms, ReadOnlySpan<bool> rowFinite, ReadOnlySpan<bool> active, long elementsPerRow, (double SumOfSquares, long Count)? extra)
    {
        double sumOfSquares = 0;
        double count = 0;
        var allFinite = true;
        for (var i = 0; i < norms.Length; i++)
        {
            if (!active[i])
            {
                continue;
            }

            if (rowFinite[i])
            {
                sumOfSquares += norms[i] * norms[i] * elementsPerRow;
                count += elementsPerRow;
            }
            else
            {
                allFinite = false;
            }
        }

        if (extra is var (extraSquares, extraCount))
        {
            sumOfSquares += extraSquares;
            count += extraCount;
        }

        var norm = Math.Sqrt(sumOfSquares / Math.Max(count, 1.0));
        norms.Fill(norm);
        return allFinite && double.IsFinite(norm);
    }

    /// <summary>
    /// The first step of each row: the given magnitude, or Hairer, Nørsett &amp; Wanner's estimate (Solving ODEs I,
    /// §II.4), which costs one evaluation of the dynamics at a probe state.
    /// </summary>
    /// <param name="given">The caller's first step magnitude, or null to estimate it.</param>
    /// <param name="start">The rows' state and clock.</param>
    /// <param name="probe">Evaluates the dynamics at float64 times <c>[W]</c> and states <c>[W, ...]</c>.</param>
    /// <returns>The signed first step of each row, <c>[W]</c> float64.</returns>
    public Tensor InitialStep(double? given, InitialStepInput start, Func<Tensor, Tensor, Tensor> probe)
    {
        var span = start.T1.sub(start.T0).abs_();

        // Empty spans (rows that are not running) get a harmless unit step.
        var safeSpan = span.masked_fill(span.eq(0), 1.0);
        if (given is double h)
        {
            return MovingTheClock(full_like(safeSpan, h).clamp_min_(dtMin).clamp_max_(dtMax).minimum(safeSpan), start, safeSpan).mul_(start.Direction);
        }

        var dtype = start.Y.dtype;
        var y = start.Y.detach();
        var k1 = start.K1.detach();
        Tensor h0, d1, scale;
        using (no_grad())
        {
            scale = y.abs().mul_(StepKernels.PerRow(start.Rtol, y)).add_(StepKernels.PerRow(start.Atol, y));
            var d0 = RmsRows(SafeDivide(y, scale));
            d1 = RmsRows(SafeDivide(k1, scale));
            var small = d0.lt(1e-5).logical_or_(d1.lt(1e-5));
            h0 = where(small, full_like(d0, 1e-6), d0.div(d1).mul_(0.01)).to_type(ScalarType.Float64);
            h0 = h0.masked_fill_(h0.isfinite().logical_not(), 1e-6).minimum(safeSpan);
        }

        var signed = h0.mul(start.Direction);
        var yProbe = y.add(k1.mul(StepKernels.PerRow(signed.to_type(dtype), y)));
        var fProbe = probe(start.T.add(signed), yProbe);
        using (no_grad())
        {
            var d2 = RmsRows(SafeDivide(fProbe.detach().sub(k1), scale)).div_(h0.to_type(dtype));
            var dMax = d1.maximum(d2).to_type(ScalarType.Float64);
            var h1 = where(
                dMax.le(1e-15),
                h0.mul(1e-3).clamp_min_(1e-6),
                RowwisePow(dMax.reciprocal().mul_(0.01), 1.0 / (order + 1)));
            h1 = h1.masked_fill_(h1.isfinite().logical_not().logical_or_(h1.le(0)), 1e-6);
            var first = MovingTheClock(h0.mul(100).minimum(h1).clamp_min_(dtMin).clamp_max_(dtMax).minimum(safeSpan), start, safeSpan);
            if (shared)
            {
                // One size for the batch: the smallest of the running rows'.
                first = first.masked_fill(start.Running.logical_not(), double.PositiveInfinity).min().expand(first.shape[0]);
            }

            return first.mul(start.Direction);
        }
    }

    /// <summary>
    /// The PID update of one row after a step attempt: the next step, the error history, and whether the running row
    /// ends because its step cannot shrink any further (a rejected step at <see cref="SolverOptions.DtMin"/>) or no
    /// longer moves the clock (below 4 units of float64 rounding of t, unless it reaches t1).
    /// </summary>
    /// <param name="step">What the attempt did.</param>
    /// <returns>The decision.</returns>
    public RowDecision Update(in RowOutcome step)
    {
        // A zero error gives an infinite proposal, clamped to FactorMax below.
        var factor = Math.Pow(step.ErrorNorm, -beta1) * settings.Safety;
        if (beta2 != 0)
        {
            factor *= Math.Pow(step.Prev1, -beta2);
        }

        if (beta3 != 0)
        {
            factor *= Math.Pow(step.Prev2, -beta3);
        }

        factor = !step.Finite || double.IsNaN(factor) ? settings.FactorMin : Math.Clamp(factor, settings.FactorMin, settings.FactorMax);

        // A rejected step never grows.
        if (!step.Accept)
        {
            factor = Math.Min(factor, 1.0);
        }

        // The clipped last step says nothing about the step the row could take: base the next one on the plan
        // when the clip shortened it and the step was accepted.
        var basis = step.Accept ? Math.Abs(step.Planned) : Math.Abs(step.Attempted);
        var magnitude = Math.Min(Math.Max(basis * factor, dtMin), dtMax);

        // A row whose last attempt was not finite ends as NonFinite, else ReachedDtMin.
        var atMinimum = !step.Accept && Math.Abs(step.Attempted) <= dtMin;
        var stuck = step.Running && (atMinimum || ClockStuck(step.TNew, magnitude, Math.Abs(step.T1 - step.TNew)));
        var failedFinite = !step.Accept && !step.RowFinite;
        var safeNorm = step.Finite ? Math.Max(step.ErrorNorm, 1e-10) : 1.0;
        return new RowDecision(
            magnitude * step.Direction,
            step.Accept ? safeNorm : step.Prev1,
            step.Accept ? step.Prev1 : step.Prev2,
            stuck && !failedFinite,
            stuck && failedFinite);
    }

    /// <summary>
    /// The update of every row of a work set (<see cref="Update(in RowOutcome)"/> per row). With a shared step size
    /// the step shrank because of the failing rows: once they are out, the others go on (their step grows back), so
    /// then only the rows that are not finite fail.
    /// </summary>
    /// <param name="steps">What each row's attempt did.</param>
    /// <param name="decisions">Receives each row's decision.</param>
    public void Update(ReadOnlySpan<RowOutcome> steps, Span<RowDecision> decisions)
    {
        var anyFailing = false;
        for (var i = 0; i < steps.Length; i++)
        {
            decisions[i] = Update(steps[i]);
            anyFailing |= decisions[i].NonFinite;
        }

        if (shared && anyFailing)
        {
            for (var i = 0; i < decisions.Length; i++)
            {
                decisions[i] = decisions[i] with { ReachedDtMin = false };
            }
        }
    }

    // A first step is at least twice the clock's resolution at t0 (and at most the span): an estimate below it
    // (a state near zero with a large slope, far from t = 0) would end the row before its first step. If that step
    // fails, the controller ends the row as usual.
    private static Tensor MovingTheClock(Tensor magnitude, InitialStepInput start, Tensor span) =>
        magnitude.maximum(start.T.abs().mul(2 * ClockSpacing)).minimum(span);

    /// <summary>Whether a step <paramref name="magnitude"/> from time <paramref name="t"/> is too small to move the
    /// float64 clock there and does not reach the row's end.</summary>
    /// <param name="t">The row's time.</param>
    /// <param name="magnitude">The row's next step magnitude.</param>
    /// <param name="remaining">The row's distance to its end.</param>
    /// <returns>Whether the row's clock is stuck.</returns>
    public static bool ClockStuck(double t, double magnitude, double remaining) =>
        magnitude <= Math.Abs(t) * ClockSpacing && magnitude < remaining;

    /// <summary>
    /// x^p computed the same way for every element wherever it sits in the batch. A contiguous pow runs a vectorized
    /// body and a scalar tail that can round differently in the last bit, which would make a row's steps depend on
    /// its position (and so differ between a compacted and a masked batch, or a batch and a row alone); a strided
    /// view takes the scalar path for every element.
    /// </summary>
    /// <param name="x">The bases, <c>[W]</c>.</param>
    /// <param name="exponent">The exponent.</param>
    /// <returns><c>x^exponent</c>, <c>[W]</c>.</returns>
    public static Tensor RowwisePow(Tensor x, double exponent) =>
        stack([x, x], 1).select(1, 0).pow(exponent);

    private static Tensor RmsRows(Tensor x) => x.reshape(x.shape[0], -1).square().mean([1]).sqrt_();

    // x / scale where 0 / 0 is 0 (pure relative control, atol = 0, at a state that is exactly zero).
    private static Tensor SafeDivide(Tensor x, Tensor scale) => x.div(scale).masked_fill_(x.eq(0), 0.0);
}
