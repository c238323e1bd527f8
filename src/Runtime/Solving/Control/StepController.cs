using System.Buffers;
using System.Numerics;
using System.Runtime.InteropServices;
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
        Tensor h0, d1, inverse;
        using (no_grad())
        {
            // 1 / (|y|·rtol + atol), as the host pass computes it: d0, d1 and d2 multiply by it.
            inverse = y.abs().mul_(StepKernels.PerRow(start.Rtol, y)).add_(StepKernels.PerRow(start.Atol, y)).reciprocal_();
            var d0 = RmsRows(Scaled(y, inverse));
            d1 = RmsRows(Scaled(k1, inverse));
            var small = d0.lt(1e-5).logical_or_(d1.lt(1e-5));
            h0 = where(small, full_like(d0, 1e-6), d0.div(d1).mul_(0.01)).to_type(ScalarType.Float64);
            h0 = h0.masked_fill_(h0.isfinite().logical_not(), 1e-6).minimum(safeSpan);
        }

        var signed = h0.mul(start.Direction);
        var yProbe = y.add(k1.mul(StepKernels.PerRow(signed.to_type(dtype), y)));
        var fProbe = probe(start.T.add(signed), yProbe);
        using (no_grad())
        {
            var d2 = RmsRows(Scaled(fProbe.detach().sub(k1), inverse)).div_(h0.to_type(dtype));
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
    /// <see cref="InitialStep(double?, InitialStepInput, Func{Tensor, Tensor, Tensor})"/> for a work set on the CPU:
    /// the same estimate computed per row over the tensors' memory (each row's norms summed in the state's dtype over
    /// vector lanes that start at the row, so a row's step does not depend on the other rows), with no tensor
    /// operation but the probe state (a new contiguous tensor, whatever the layout of <paramref name="y"/>).
    /// </summary>
    /// <typeparam name="T">The state's element type.</typeparam>
    /// <param name="given">The caller's first step magnitude, or null to estimate it.</param>
    /// <param name="y">The initial states, <c>[W, ...]</c>, on the CPU.</param>
    /// <param name="k1">The slopes f(t0, y0), <c>[W, ...]</c>.</param>
    /// <param name="rows">Each row's clock, span, direction, tolerances and whether it runs.</param>
    /// <param name="steps">Receives the signed first step of each row, <c>[W]</c>.</param>
    /// <param name="probe">Evaluates the dynamics at float64 times <c>[W]</c> and states <c>[W, ...]</c>.</param>
    public void InitialStep<T>(double? given, Tensor y, Tensor k1, in InitialStepRows rows, Span<double> steps, Func<Tensor, Tensor, Tensor> probe)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var width = steps.Length;
        var span = new double[width];
        for (var i = 0; i < width; i++)
        {
            span[i] = SpanOf(rows, i);
        }

        if (given is double h)
        {
            for (var i = 0; i < width; i++)
            {
                steps[i] = FirstStep(h, rows.T[i], span[i]) * rows.Direction[i];
            }

            return;
        }

        var ys = HostMemory.Read<T>(y.detach());
        var ks = HostMemory.Read<T>(k1.detach());
        var perRow = width == 0 ? 0 : ys.Length / width;
        var h0 = new double[width];
        var d1 = new double[width];
        var probeTimes = new double[width];
        var probeState = empty(y.shape, dtype: y.dtype);
        var yp = MemoryMarshal.Cast<byte, T>(probeState.bytes);

        // 1 / (|y|·rtol + atol) per element, computed once: d0, d1 and d2 all multiply by it.
        var inverseScales = ArrayPool<T>.Shared.Rent(ys.Length);
        var inverse = inverseScales.AsSpan(0, ys.Length);
        for (var i = 0; i < width; i++)
        {
            var offset = i * perRow;
            var state = ys.Slice(offset, perRow);
            var (d0, d1Row) = FirstNorms(state, ks.Slice(offset, perRow), rows.Rtol[i], rows.Atol[i], inverse.Slice(offset, perRow));
            d1[i] = d1Row;
            var first = d0 < 1e-5 || d1Row < 1e-5 ? 1e-6 : 0.01 * (d0 / d1Row);
            h0[i] = Math.Min(double.IsFinite(first) ? first : 1e-6, span[i]);
            var signed = h0[i] * rows.Direction[i];
            probeTimes[i] = rows.T[i] + signed;
            Axpy(ys.Slice(offset, perRow), ks.Slice(offset, perRow), T.CreateTruncating(signed), yp.Slice(offset, perRow));
        }

        var fProbe = probe(HostMemory.Write(probeTimes, ScalarType.Float64, y.device), probeState);
        var fs = HostMemory.Read<T>(fProbe.detach());
        for (var i = 0; i < width; i++)
        {
            var offset = i * perRow;
            var d2 = ScaledRms(inverse.Slice(offset, perRow), fs.Slice(offset, perRow), ks.Slice(offset, perRow)) / h0[i];
            var dMax = Math.Max(d1[i], d2);
            var h1 = dMax <= 1e-15 ? Math.Max(h0[i] * 1e-3, 1e-6) : Math.Pow(0.01 / dMax, 1.0 / (order + 1));
            if (!double.IsFinite(h1) || h1 <= 0)
            {
                h1 = 1e-6;
            }

            steps[i] = FirstStep(Math.Min(100 * h0[i], h1), rows.T[i], span[i]);
        }

        ArrayPool<T>.Shared.Return(inverseScales);
        Sign(rows, steps);
    }

    /// <summary>
    /// The first step of each row from given magnitudes (a solve seeded with another's proposals): each clamped to
    /// [dtMin, dtMax] and the row's span and moving the clock, signed by the row's direction; under a shared step size
    /// the smallest of the running rows'. No evaluation of the dynamics.
    /// </summary>
    /// <param name="magnitudes">Each row's first step magnitude, <c>[W]</c> (the sign is ignored).</param>
    /// <param name="rows">Each row's clock, span, direction and whether it runs.</param>
    /// <param name="steps">Receives the signed first step of each row, <c>[W]</c>.</param>
    public void SeededInitialStep(ReadOnlySpan<double> magnitudes, in InitialStepRows rows, Span<double> steps)
    {
        for (var i = 0; i < steps.Length; i++)
        {
            steps[i] = FirstStep(Math.Abs(magnitudes[i]), rows.T[i], SpanOf(rows, i));
        }

        Sign(rows, steps);
    }

    // A row's span |t1 − t0|; an empty span (a row that is not running) gets a harmless unit step.
    private static double SpanOf(in InitialStepRows rows, int i)
    {
        var length = Math.Abs(rows.T1[i] - rows.T0[i]);
        return length == 0 ? 1.0 : length;
    }

    // A first step magnitude within [dtMin, dtMax] and the row's span, moving the clock at t.
    private double FirstStep(double magnitude, double t, double span) =>
        MovingTheClock(Math.Min(Math.Min(Math.Max(magnitude, dtMin), dtMax), span), t, span);

    // Signs the first step magnitudes by each row's direction; under a shared step size each is the smallest of the
    // running rows'.
    private void Sign(in InitialStepRows rows, Span<double> steps)
    {
        var smallest = double.PositiveInfinity;
        for (var i = 0; i < steps.Length; i++)
        {
            if (rows.Running[i])
            {
                smallest = Math.Min(smallest, steps[i]);
            }
        }

        for (var i = 0; i < steps.Length; i++)
        {
            steps[i] = (shared ? smallest : steps[i]) * rows.Direction[i];
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

    // Over one row: the RMS of y / scale and of k / scale, scale = |y|·rtol + atol, where 0 / 0 counts as 0, and each
    // element's 1 / scale (into `inverse`, for d2). Summed in T over vector lanes that start at the row's first element,
    // then the row's tail (as RowNorms does), so that a row's values do not depend on its position.
    private static (double D0, double D1) FirstNorms<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> k, double rtol, double atol, Span<T> inverse)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var lanes = Vector<T>.Count;
        var rtolT = T.CreateTruncating(rtol);
        var atolT = T.CreateTruncating(atol);
        var rtolV = new Vector<T>(rtolT);
        var atolV = new Vector<T>(atolT);
        var (sum0, sum1) = (Vector<T>.Zero, Vector<T>.Zero);
        var n = 0;
        for (; n + lanes <= y.Length; n += lanes)
        {
            var state = new Vector<T>(y.Slice(n, lanes));
            var slope = new Vector<T>(k.Slice(n, lanes));
            var reciprocal = Vector<T>.One / ((Vector.Abs(state) * rtolV) + atolV);
            reciprocal.CopyTo(inverse.Slice(n, lanes));
            var r0 = Vector.ConditionalSelect(Vector.Equals(state, Vector<T>.Zero), Vector<T>.Zero, state * reciprocal);
            var r1 = Vector.ConditionalSelect(Vector.Equals(slope, Vector<T>.Zero), Vector<T>.Zero, slope * reciprocal);
            sum0 += r0 * r0;
            sum1 += r1 * r1;
        }

        var (total0, total1) = (Vector.Sum(sum0), Vector.Sum(sum1));
        for (; n < y.Length; n++)
        {
            var reciprocal = T.One / ((T.Abs(y[n]) * rtolT) + atolT);
            inverse[n] = reciprocal;
            var r0 = y[n] == T.Zero ? T.Zero : y[n] * reciprocal;
            var r1 = k[n] == T.Zero ? T.Zero : k[n] * reciprocal;
            total0 += r0 * r0;
            total1 += r1 * r1;
        }

        var count = T.CreateTruncating(y.Length);
        return (double.CreateTruncating(T.Sqrt(total0 / count)), double.CreateTruncating(T.Sqrt(total1 / count)));
    }

    // The RMS over one row of (x − minus) · inverse, where a zero difference counts as 0 (as FirstNorms).
    private static double ScaledRms<T>(ReadOnlySpan<T> inverse, ReadOnlySpan<T> x, ReadOnlySpan<T> minus)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var lanes = Vector<T>.Count;
        var sum = Vector<T>.Zero;
        var n = 0;
        for (; n + lanes <= x.Length; n += lanes)
        {
            var value = new Vector<T>(x.Slice(n, lanes)) - new Vector<T>(minus.Slice(n, lanes));
            var ratio = Vector.ConditionalSelect(Vector.Equals(value, Vector<T>.Zero), Vector<T>.Zero, value * new Vector<T>(inverse.Slice(n, lanes)));
            sum += ratio * ratio;
        }

        var total = Vector.Sum(sum);
        for (; n < x.Length; n++)
        {
            var value = x[n] - minus[n];
            var ratio = value == T.Zero ? T.Zero : value * inverse[n];
            total += ratio * ratio;
        }

        return double.CreateTruncating(T.Sqrt(total / T.CreateTruncating(x.Length)));
    }

    // y + k·step over one row.
    private static void Axpy<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> k, T step, Span<T> result)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var lanes = Vector<T>.Count;
        var stepV = new Vector<T>(step);
        var n = 0;
        for (; n + lanes <= y.Length; n += lanes)
        {
            (new Vector<T>(y.Slice(n, lanes)) + (new Vector<T>(k.Slice(n, lanes)) * stepV)).CopyTo(result.Slice(n, lanes));
        }

        for (; n < y.Length; n++)
        {
            result[n] = y[n] + (k[n] * step);
        }
    }

    private static double MovingTheClock(double magnitude, double t, double span) =>
        Math.Min(Math.Max(magnitude, Math.Abs(t) * 2 * ClockSpacing), span);

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

    // x · (1 / scale) where 0 · (1 / 0) is 0 (pure relative control, atol = 0, at a state that is exactly zero).
    private static Tensor Scaled(Tensor x, Tensor inverse) => x.mul(inverse).masked_fill_(x.eq(0), 0.0);
}
