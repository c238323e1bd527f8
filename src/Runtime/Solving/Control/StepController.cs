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
    /// <param name="errorNorm">Each row's norm, <c>[W]</c>.</param>
    /// <param name="rowFinite">Whether each row's step is finite, <c>[W]</c> bool.</param>
    /// <param name="active">Which rows are running, <c>[W]</c> bool.</param>
    /// <param name="elementsPerRow">The number of state elements per row.</param>
    /// <param name="extra">A sum of squared scaled errors and its element count to add, or null.</param>
    /// <returns>The batch norm expanded to <c>[W]</c>, and whether the batch step is finite, <c>[W]</c>.</returns>
    public static (Tensor Norm, Tensor Finite) SharedNorm(Tensor errorNorm, Tensor rowFinite, Tensor active, long elementsPerRow, (Tensor SumOfSquares, long Count)? extra)
    {
        var width = errorNorm.shape[0];
        var counted = active.logical_and(rowFinite);
        var weight = counted.to_type(errorNorm.dtype);
        var sumOfSquares = errorNorm.masked_fill(counted.logical_not(), 0.0).square().mul_(weight).sum().mul_(elementsPerRow);
        var count = weight.sum().mul_(elementsPerRow);
        if (extra is var (extraSquares, extraCount))
        {
            sumOfSquares = sumOfSquares.add(extraSquares.detach().to(errorNorm.dtype));
            count = count.add(extraCount);
        }

        var norm = sumOfSquares.div_(count.clamp_min_(1.0)).sqrt_().expand(width);
        var allFinite = rowFinite.logical_or(active.logical_not()).all().logical_and(norm[0].isfinite()).expand(width);
        return (norm, allFinite);
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
    /// The PID update of every row after a step attempt: the next step, the error history, and which running rows
    /// end because their step cannot shrink any further (a rejected step at <see cref="SolverOptions.DtMin"/>) or no
    /// longer moves the clock (below 4 units of float64 rounding of t, unless it reaches t1).
    /// </summary>
    /// <param name="step">What the attempt did, per row.</param>
    /// <returns>The decisions.</returns>
    public StepDecision Update(StepOutcome step)
    {
        // A zero error gives an infinite proposal, clamped to FactorMax below.
        var factor = RowwisePow(step.ErrorNorm, -beta1).mul_(settings.Safety);
        if (beta2 != 0)
        {
            factor.mul_(RowwisePow(step.Prev1, -beta2));
        }

        if (beta3 != 0)
        {
            factor.mul_(RowwisePow(step.Prev2, -beta3));
        }

        var notFinite = step.Finite.logical_not();
        factor = factor.masked_fill_(notFinite, settings.FactorMin).nan_to_num_(nan: settings.FactorMin);
        factor = factor.clamp_(settings.FactorMin, settings.FactorMax);

        // A rejected step never grows.
        factor = where(step.Accept, factor, factor.clamp_max(1.0)).to_type(ScalarType.Float64);

        // The clipped last step says nothing about the step the row could take: base the next one on the plan
        // when the clip shortened it and the step was accepted.
        var basis = where(step.Accept, step.Planned.abs(), step.Attempted.abs());
        var magnitude = basis.mul(factor).clamp_min_(dtMin).clamp_max_(dtMax);

        // A row whose last attempt was not finite ends as NonFinite, else ReachedDtMin.
        var atMinimum = step.Accept.logical_not().logical_and_(step.Attempted.abs().le(dtMin));
        var clockStuck = ClockStuck(step.TNew, magnitude, step.T1.sub(step.TNew).abs());
        var stuck = step.Running.logical_and(atMinimum.logical_or_(clockStuck));
        var failedFinite = step.Accept.logical_not().logical_and_(step.RowFinite.logical_not());
        var failing = stuck.logical_and(failedFinite);
        var stuckFinite = stuck.logical_and(failedFinite.logical_not());
        if (shared)
        {
            // The shared step shrank because of the failing rows: once they are out, the others go on (their step
            // grows back), so only the rows that are not finite fail here.
            stuckFinite = stuckFinite.logical_and_(failing.any().logical_not());
        }

        var safeNorm = step.ErrorNorm.masked_fill(notFinite, 1.0).clamp_min_(1e-10);
        var nextPrev2 = where(step.Accept, step.Prev1, step.Prev2);
        var nextPrev1 = where(step.Accept, safeNorm, step.Prev1);
        return new StepDecision(magnitude.mul_(step.Direction), nextPrev1, nextPrev2, stuckFinite, failing);
    }

    // A first step is at least twice the clock's resolution at t0 (and at most the span): an estimate below it
    // (a state near zero with a large slope, far from t = 0) would end the row before its first step. If that step
    // fails, the controller ends the row as usual.
    private static Tensor MovingTheClock(Tensor magnitude, InitialStepInput start, Tensor span) =>
        magnitude.maximum(start.T.abs().mul(2 * ClockSpacing)).minimum(span);

    /// <summary>Rows whose step <paramref name="magnitude"/> from time <paramref name="t"/> is too small to move the
    /// float64 clock there and does not reach the row's end.</summary>
    /// <param name="t">Each row's time, <c>[W]</c> float64.</param>
    /// <param name="magnitude">Each row's next step magnitude, <c>[W]</c> float64.</param>
    /// <param name="remaining">Each row's distance to its end, <c>[W]</c> float64.</param>
    /// <returns>The rows, <c>[W]</c> bool.</returns>
    public static Tensor ClockStuck(Tensor t, Tensor magnitude, Tensor remaining) =>
        magnitude.le(t.abs().mul(ClockSpacing)).logical_and_(magnitude.lt(remaining));

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
