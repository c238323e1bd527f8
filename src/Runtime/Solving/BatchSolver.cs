using NeuralOde.Stepping;
using TorchSharp;
using static TorchSharp.torch;

namespace NeuralOde.Solving;

/// <summary>
/// The batched solver loop: every row keeps its own clock (float64), span, step size, controller history and
/// status; rows that finished or failed never change again, and once enough of them are done they leave the work
/// set, so that only running rows are stepped (their final values are scattered into the results once, when they
/// leave).
/// </summary>
/// <remarks>
/// All per-row state lives in <see cref="WorkRows"/>; each iteration opens one scope for its temporaries and
/// swaps in the next generation of state. Control quantities (error norms, step sizes, masks) are computed
/// without autograd; the states themselves keep their graph, so backpropagation through the solve works. The
/// dynamics and the generated step see times and steps in the state's dtype; the clock itself never leaves
/// float64, and a row whose step no longer moves its clock ends with <see cref="SolverStatus.ReachedDtMin"/>.
/// </remarks>
internal sealed class BatchSolver : IDisposable
{
    private const long RunningCode = (long)SolverStatus.Running;

    // A step smaller than this many units of float64 rounding of |t| no longer moves the clock reliably.
    private const double ClockSpacing = 4 * 2.220446049250313e-16;

    private static readonly Scalar SuccessCode = ((long)SolverStatus.Success).ToScalar();
    private static readonly Scalar ReachedDtMinCode = ((long)SolverStatus.ReachedDtMin).ToScalar();
    private static readonly Scalar ReachedMaxStepsCode = ((long)SolverStatus.ReachedMaxSteps).ToScalar();
    private static readonly Scalar NonFiniteCode = ((long)SolverStatus.NonFinite).ToScalar();

    private readonly RungeKuttaScheme scheme;
    private readonly Func<Tensor, Tensor, Tensor, Tensor> dynamics;
    private readonly SolverOptions options;
    private readonly long rows;
    private readonly long[] stateShape;
    private readonly ScalarType dtype;
    private readonly Device device;
    private readonly FixedStepPlan? fixedPlan;
    private readonly int outputCount;
    private readonly bool pureRelative;
    private readonly WorkRows work = new();
    private readonly IStepObserver? observer;
    private readonly bool slopeCheckedByError;

    private Tensor? ys;            // [B, T, ...], in batch order
    private RowResults? results;   // rows that left the work set, in batch order; null until the first compaction
    private long calls;
    private long rowEvaluations;
    private int callsThisIteration;
    private bool aliasChecked;
    private bool copySlopes;

    public BatchSolver(
        RungeKuttaScheme scheme,
        Func<Tensor, Tensor, Tensor, Tensor> dynamics,
        Tensor y0,
        Tensor t0Rows,
        Tensor t1Rows,
        SolverOptions options,
        FixedStepPlan? fixedPlan,
        Tensor? outputTimesRows,
        IStepObserver? observer = null)
    {
        this.observer = observer;
        var tableau = scheme.Tableau;
        var last = tableau.Stages - 1;
        slopeCheckedByError = fixedPlan is null && scheme.IsFsal && tableau.BHat is { } bHat && bHat[last].Value != tableau.B[last].Value;
        this.scheme = scheme;
        this.dynamics = dynamics;
        this.options = options;
        this.fixedPlan = fixedPlan;
        rows = y0.shape[0];
        stateShape = y0.shape;
        dtype = y0.dtype;
        device = y0.device;

        using var scope = NewDisposeScope();
        work.Index = arange(rows, dtype: ScalarType.Int64, device: device);
        work.Y = y0.alias();
        work.K1 = zeros_like(y0);
        work.T0 = t0Rows.alias();
        work.T1 = t1Rows.alias();
        work.T = t0Rows.clone();
        work.Dt = zeros(rows, dtype: ScalarType.Float64, device: device);
        work.Direction = t1Rows.lt(t0Rows).to_type(ScalarType.Float64).mul_(-2).add_(1);
        work.Status = where(t0Rows.eq(t1Rows), full(rows, (long)SolverStatus.Success, dtype: ScalarType.Int64, device: device), full(rows, RunningCode, dtype: ScalarType.Int64, device: device));
        work.Attempts = zeros(rows, dtype: ScalarType.Int64, device: device);
        work.Accepted = zeros(rows, dtype: ScalarType.Int64, device: device);
        work.Rejected = zeros(rows, dtype: ScalarType.Int64, device: device);
        work.Evaluations = zeros(rows, dtype: ScalarType.Int64, device: device);
        work.ErrorPrev1 = ones(rows, dtype: dtype, device: device);
        work.ErrorPrev2 = ones(rows, dtype: dtype, device: device);
        work.Rtol = options.RelativeToleranceRows is { } rtolRows ? rtolRows.to(dtype).clone() : full(rows, options.RelativeTolerance, dtype: dtype, device: device);
        work.Atol = options.AbsoluteToleranceRows is { } atolRows ? atolRows.to(dtype).clone() : full(rows, options.AbsoluteTolerance, dtype: dtype, device: device);
        pureRelative = options.AbsoluteToleranceRows is { } a ? a.eq(0).any().item<bool>() : options.AbsoluteTolerance == 0;
        if (outputTimesRows is not null)
        {
            outputCount = (int)outputTimesRows.shape[1];
            work.OutputTimes = outputTimesRows.alias();
            work.NextOutput = zeros(rows, dtype: ScalarType.Int64, device: device);
            var ysShape = new long[stateShape.Length + 1];
            ysShape[0] = rows;
            ysShape[1] = outputCount;
            Array.Copy(stateShape, 1, ysShape, 2, stateShape.Length - 1);
            ys = full(ysShape, double.NaN, dtype: dtype, device: device).DetachFromDisposeScope();
        }
    }

    public OdeSolution Run(Tensor? requestedTimes)
    {
        Start();
        var maxIterations = fixedPlan?.Iterations ?? options.MaxSteps;
        for (long iteration = 0; iteration < maxIterations; iteration++)
        {
            if (!Iterate(iteration))
            {
                break;
            }
        }

        using (var scope = NewDisposeScope())
        {
            // Rows still running after the last iteration ran out of steps.
            work.Status = work.Status.masked_fill(work.Status.eq(RunningCode), ReachedMaxStepsCode);
            results?.Record(work.Index, arange(work.Count, dtype: ScalarType.Int64, device: device), work);
        }

        // Without a compaction the work set is the batch, in order.
        var final = results ?? work.TakeResults();
        results = null;
        var stats = new SolverStats(final.Evaluations, final.Accepted, final.Rejected, calls, rowEvaluations);
        var ts = requestedTimes?.alias().DetachFromDisposeScope();
        var outputs = ys;
        ys = null;
        return new OdeSolution(final.Y, final.T, ts, outputs, final.Status, stats);
    }

    public void Dispose()
    {
        work.Dispose();
        ys?.Dispose();
        results?.Dispose();
    }

    // Non-finite initial states, the first slope, outputs at t0 and the initial step.
    private void Start()
    {
        using var scope = NewDisposeScope();
        using (no_grad())
        {
            var bad = RowsFinite(work.Y.detach()).logical_not();
            work.Status = work.Status.masked_fill(bad, NonFiniteCode);
        }

        if (ys is not null)
        {
            WriteOutputs(work.T, work.T, ones(rows, dtype: ScalarType.Bool, device: device), work.Y, null);
        }

        var running = work.Status.eq(RunningCode);
        if (!running.any().item<bool>())
        {
            // Nothing to integrate (every span is empty or every state is non-finite): no evaluation at all.
            return;
        }

        callsThisIteration = 0;
        var slope = Evaluate(InStateDtype(work.T), work.Y);
        work.K1 = slope;
        using (no_grad())
        {
            var badSlope = RowsFinite(slope.detach()).logical_not().logical_and_(running);
            work.Status = work.Status.masked_fill(badSlope, NonFiniteCode);
        }

        if (fixedPlan is null)
        {
            work.Dt = InitialStep(running);
            using (no_grad())
            {
                var stuck = ClockStuck(work.T, work.Dt.abs(), work.T1.sub(work.T).abs()).logical_and_(work.Status.eq(RunningCode));
                work.Status = work.Status.masked_fill(stuck, ReachedDtMinCode);
            }
        }

        work.Evaluations = work.Evaluations.add(running.to_type(ScalarType.Int64).mul_(callsThisIteration));
    }

    private Tensor InitialStep(Tensor running)
    {
        var span = work.T1.sub(work.T0).abs_();

        // Empty spans (rows that are not running) get a harmless unit step.
        var safeSpan = span.masked_fill(span.eq(0), 1.0);
        if (options.InitialStep is double given)
        {
            return safeSpan.clamp_max(given).mul_(work.Direction);
        }

        // Hairer, Nørsett & Wanner, Solving ODEs I, §II.4: one extra evaluation per row. Every operation is
        // elementwise or a reduction within a row, so a row's step does not depend on the other rows.
        Tensor h0, d1, scale;
        var k1 = work.K1.detach();
        var y = work.Y.detach();
        using (no_grad())
        {
            scale = y.abs().mul_(PerRow(work.Rtol)).add_(PerRow(work.Atol));
            var d0 = RmsRows(SafeDivide(y, scale));
            d1 = RmsRows(SafeDivide(k1, scale));
            var small = d0.lt(1e-5).logical_or_(d1.lt(1e-5));
            h0 = where(small, full_like(d0, 1e-6), d0.div(d1).mul_(0.01)).to_type(ScalarType.Float64);
            h0 = h0.masked_fill_(h0.isfinite().logical_not(), 1e-6).minimum(safeSpan);
        }

        var direction = work.Direction;
        var yProbe = y.add(k1.mul(PerRow(InStateDtype(h0.mul(direction)))));
        var fProbe = Evaluate(InStateDtype(work.T.add(h0.mul(direction))), yProbe);
        using (no_grad())
        {
            var h0State = InStateDtype(h0);
            var d2 = RmsRows(SafeDivide(fProbe.detach().sub(k1), scale)).div_(h0State);
            var dMax = d1.maximum(d2).to_type(ScalarType.Float64);
            var h1 = where(
                dMax.le(1e-15),
                h0.mul(1e-3).clamp_min_(1e-6),
                RowwisePow(dMax.reciprocal().mul_(0.01), 1.0 / (scheme.Order + 1)));
            h1 = h1.masked_fill_(h1.isfinite().logical_not().logical_or_(h1.le(0)), 1e-6);
            var h = h0.mul(100).minimum(h1).clamp_min_(options.DtMin).clamp_max_(options.DtMax).minimum(safeSpan);
            if (options.SharedStepSize)
            {
                // One size for the batch: the smallest of the running rows'.
                h = h.masked_fill(running.logical_not(), double.PositiveInfinity).min().expand(rows);
            }

            return h.mul(direction);
        }
    }

    // One step of every running row of the work set. Returns false when no row is running.
    private bool Iterate(long iteration)
    {
        using var scope = NewDisposeScope();
        var running = work.Status.eq(RunningCode);
        var runningCount = running.sum().item<long>();
        if (runningCount == 0)
        {
            return false;
        }

        // Compaction: drop finished and failed rows from the work set, so that they cost nothing any more.
        var width = work.Count;
        var shrink = runningCount < width && options.Compaction switch
        {
            CompactionMode.Always => true,
            CompactionMode.Never => false,
            _ => runningCount < options.CompactionThreshold * width,
        };

        if (shrink)
        {
            Retire(running);
            running = ones(runningCount, dtype: ScalarType.Bool, device: device);
            width = runningCount;
        }

        callsThisIteration = 0;
        var active = running;
        var t = work.T;
        var y = work.Y;
        var k1 = work.K1;

        Tensor dta, last, tEnd;
        using (no_grad())
        {
            if (fixedPlan is null)
            {
                // Clip the step so that it lands exactly on t1.
                var remaining = work.T1.sub(t);
                last = work.Dt.abs().ge(remaining.abs());
                dta = where(last, remaining, work.Dt);
                tEnd = where(last, work.T1, t.add(dta));
            }
            else
            {
                (dta, last, tEnd) = fixedPlan.Next(iteration, work);
            }
        }

        var tState = InStateDtype(t);
        var dtState = InStateDtype(dta);
        observer?.BeginStep(work.Index, dtState, active);
        var step = scheme.Step(Evaluate, tState, dtState, y, k1);

        Tensor accept, finite, rowFinite, errorNorm;
        using (no_grad())
        {
            var y1d = step.Y.detach();
            rowFinite = RowsFinite(y1d);
            if (fixedPlan is null)
            {
                var scale = y.detach().abs().maximum(y1d.abs()).mul_(PerRow(work.Rtol)).add_(PerRow(work.Atol));
                var ratio = pureRelative ? SafeDivide(step.Error!.detach(), scale) : step.Error!.detach().div(scale);
                errorNorm = RmsRows(ratio);
                rowFinite = rowFinite.logical_and_(errorNorm.isfinite());
                finite = rowFinite;
                if (options.SharedStepSize)
                {
                    (errorNorm, finite) = SharedNorm(errorNorm, rowFinite, active, new StepContext(work.Index, tState, dtState, y, step, active));
                }

                accept = errorNorm.le(1.0).logical_and_(finite).logical_and_(active);
            }
            else
            {
                errorNorm = zeros(width, dtype: dtype, device: device);
                finite = rowFinite;
                accept = finite.logical_and(active);
            }
        }

        observer?.Accepted(new StepContext(work.Index, tState, dtState, y, step, active), accept);

        // When every row of the work set accepted (the common case), selecting is a no-op: skip it. Rows that are
        // not running are never accepted, so they keep their state bit for bit.
        var allAccepted = accept.all().item<bool>();
        var acceptRows = PerRow(accept);
        var yNew = allAccepted ? step.Y : where(acceptRows, step.Y, y);
        var tNew = allAccepted ? tEnd : where(accept, tEnd, t);
        var done = accept.logical_and(last);

        // The slope at the new state: free for FSAL schemes, one evaluation otherwise (it is the next step's k1).
        var stageCalls = callsThisIteration;
        Tensor? slopeEvaluated = null;
        Tensor k1New;
        if (scheme.IsFsal && step.EndSlope is not null)
        {
            k1New = allAccepted ? step.EndSlope : where(acceptRows, step.EndSlope, k1);
        }
        else
        {
            var needSlope = ys is not null ? accept : accept.logical_and(done.logical_not());
            if (needSlope.any().item<bool>())
            {
                var slope = Evaluate(InStateDtype(tEnd), step.Y);
                k1New = allAccepted ? slope : where(acceptRows, slope, k1);

                // The rows that needed it count this evaluation as their own; the others were only carried along.
                slopeEvaluated = needSlope;
            }
            else
            {
                k1New = k1;
            }
        }

        Tensor newStatus;
        using (no_grad())
        {
            newStatus = work.Status.masked_fill(done, SuccessCode);

            // An accepted state whose slope is not finite cannot be continued. (FSAL schemes whose last stage
            // enters the error estimate already rejected such a step.)
            if (!slopeCheckedByError)
            {
                var slopeBad = accept.logical_and(done.logical_not()).logical_and_(RowsFinite(k1New.detach()).logical_not());
                newStatus.masked_fill_(slopeBad, NonFiniteCode);
            }

            if (fixedPlan is not null)
            {
                newStatus.masked_fill_(active.logical_and(rowFinite.logical_not()), NonFiniteCode);
            }
        }

        if (ys is not null)
        {
            var stepRef = step;
            var slopeEnd = k1New;
            WriteOutputs(t, tEnd, accept, step.Y, theta =>
                scheme.HasDenseOutput
                    ? scheme.Interpolate(y, stepRef, theta)
                    : Hermite.Interpolate(y, stepRef.Y, k1, slopeEnd, dtState, theta));
        }

        using (no_grad())
        {
            var attempts = work.Attempts.add(active.to_type(ScalarType.Int64));
            if (fixedPlan is null)
            {
                var control = Control(dta, errorNorm, finite, rowFinite, accept, active, tNew, ref newStatus);
                work.Dt = where(active, control.Dt, work.Dt);
                work.ErrorPrev1 = control.Prev1;
                work.ErrorPrev2 = control.Prev2;
                var outOfSteps = newStatus.eq(RunningCode).logical_and_(attempts.ge(options.MaxSteps));
                newStatus.masked_fill_(outOfSteps, ReachedMaxStepsCode);
            }

            work.Attempts = attempts;
            work.Accepted = work.Accepted.add(accept.to_type(ScalarType.Int64));
            work.Rejected = work.Rejected.add(active.logical_and(accept.logical_not()).to_type(ScalarType.Int64));

            // Only the rows that were running this iteration count its evaluations as their own.
            var evaluations = work.Evaluations.add(active.to_type(ScalarType.Int64).mul_(stageCalls));
            work.Evaluations = slopeEvaluated is null ? evaluations : evaluations.add_(slopeEvaluated.to_type(ScalarType.Int64));
        }

        work.Y = yNew;
        work.T = tNew;
        work.K1 = k1New;
        work.Status = newStatus;
        return true;
    }

    // With a shared step size: one norm for the batch, the RMS over all elements of the running rows whose step is
    // finite (and of any channel an observer integrates outside the state, such as an adjoint's parameter
    // gradient). A non-finite row makes the whole batch reject (the step shrinks for every row), but only that row
    // fails once the step can shrink no further.
    private (Tensor Norm, Tensor Finite) SharedNorm(Tensor errorNorm, Tensor rowFinite, Tensor active, StepContext context)
    {
        var width = errorNorm.shape[0];
        var counted = active.logical_and(rowFinite);
        var weight = counted.to_type(dtype);
        var perRow = work.Y.numel() / Math.Max(width, 1);
        var sumOfSquares = errorNorm.masked_fill(counted.logical_not(), 0.0).square().mul_(weight).sum().mul_(perRow);
        var count = weight.sum().mul_(perRow);
        if (observer?.ErrorContribution(context) is var (extraSquares, extraCount))
        {
            sumOfSquares = sumOfSquares.add(extraSquares.detach().to(dtype));
            count = count.add(extraCount);
        }

        var norm = sumOfSquares.div_(count.clamp_min_(1.0)).sqrt_().expand(width);
        var allFinite = rowFinite.logical_or(active.logical_not()).all().logical_and(norm[0].isfinite()).expand(width);
        return (norm, allFinite);
    }

    // Takes the rows that are not in `keep` out of the work set, recording their final values in the results.
    private void Retire(Tensor keep)
    {
        var kept = keep.nonzero().squeeze(1);
        if (results is null)
        {
            // The first retirement: the work set is still the whole batch in order, so its results are the results.
            results = new RowResults(
                work.Y.alias().DetachFromDisposeScope(),
                work.T.alias().DetachFromDisposeScope(),
                work.Status.alias().DetachFromDisposeScope(),
                work.Accepted.alias().DetachFromDisposeScope(),
                work.Rejected.alias().DetachFromDisposeScope(),
                work.Evaluations.alias().DetachFromDisposeScope());
        }
        else
        {
            var leaving = keep.logical_not().nonzero().squeeze(1);
            results.Record(work.Index.index_select(0, leaving), leaving, work);
        }

        work.Select(kept);
    }

    // The PID controller per row; also ends rows whose step cannot shrink any further or no longer moves the clock.
    private (Tensor Dt, Tensor Prev1, Tensor Prev2) Control(
        Tensor dta,
        Tensor errorNorm,
        Tensor finite,
        Tensor rowFinite,
        Tensor accept,
        Tensor active,
        Tensor tNew,
        ref Tensor newStatus)
    {
        var c = options.Controller;
        var k = Math.Min(scheme.Order, scheme.EmbeddedOrder ?? scheme.Order) + 1.0;
        var beta1 = (c.PCoefficient + c.ICoefficient + c.DCoefficient) / k;
        var beta2 = -(c.PCoefficient + 2 * c.DCoefficient) / k;
        var beta3 = c.DCoefficient / k;
        var prev1 = work.ErrorPrev1;
        var prev2 = work.ErrorPrev2;

        // A zero error gives an infinite proposal, clamped to FactorMax below.
        var factor = RowwisePow(errorNorm, -beta1).mul_(c.Safety);
        if (beta2 != 0)
        {
            factor.mul_(RowwisePow(prev1, -beta2));
        }

        if (beta3 != 0)
        {
            factor.mul_(RowwisePow(prev2, -beta3));
        }

        var notFinite = finite.logical_not();
        factor = factor.masked_fill_(notFinite, c.FactorMin).nan_to_num_(nan: c.FactorMin);
        factor = factor.clamp_(c.FactorMin, c.FactorMax);

        // A rejected step never grows.
        factor = where(accept, factor, factor.clamp_max(1.0)).to_type(ScalarType.Float64);

        // The clipped last step says nothing about the step the row could take: base the next one on the plan
        // when the clip shortened it and the step was accepted.
        var basis = where(accept, work.Dt.abs(), dta.abs());
        var magnitude = basis.mul(factor).clamp_min_(options.DtMin).clamp_max_(options.DtMax);

        // A rejected step at the minimum size ends the row; so does any next step too small to move the clock
        // (unless it lands on t1). A row whose last step was not finite ends as NonFinite, else ReachedDtMin.
        var running = active.logical_and(newStatus.eq(RunningCode));
        var atMinimum = accept.logical_not().logical_and_(dta.abs().le(options.DtMin));
        var clockStuck = ClockStuck(tNew, magnitude, work.T1.sub(tNew).abs());
        var stuck = running.logical_and(atMinimum.logical_or_(clockStuck));
        var failedFinite = accept.logical_not().logical_and_(rowFinite.logical_not());
        var failing = stuck.logical_and(failedFinite);
        var stuckFinite = stuck.logical_and(failedFinite.logical_not());
        if (options.SharedStepSize)
        {
            // The shared step shrank because of the failing rows: once they are out, the others go on (their step
            // grows back), so only the rows that are not finite fail here.
            stuckFinite = stuckFinite.logical_and_(failing.any().logical_not());
        }

        newStatus = newStatus.masked_fill(stuckFinite, ReachedDtMinCode).masked_fill_(failing, NonFiniteCode);

        var safeNorm = errorNorm.masked_fill(notFinite, 1.0).clamp_min_(1e-10);
        var nextPrev2 = where(accept, prev1, prev2);
        var nextPrev1 = where(accept, safeNorm, prev1);
        return (magnitude.mul_(work.Direction), nextPrev1, nextPrev2);
    }

    // Rows whose step `magnitude` from time `t` is below the clock's spacing there and does not reach the end.
    private static Tensor ClockStuck(Tensor t, Tensor magnitude, Tensor remaining) =>
        magnitude.le(t.abs().mul(ClockSpacing)).logical_and_(magnitude.lt(remaining));

    // x^p computed the same way for every element wherever it sits in the batch. A contiguous pow runs a vectorized
    // body and a scalar tail that can round differently in the last bit, which would make a row's steps depend on
    // its position (and so differ between a compacted and a masked batch, or a batch and a row alone); a strided
    // view takes the scalar path for every element.
    private static Tensor RowwisePow(Tensor x, double exponent) =>
        stack([x, x], 1).select(1, 0).pow(exponent);

    // Writes the states at every output time that falls inside [tStart, tEnd] of an accepted step of the work set.
    // Without an interpolant (at the start) only the outputs at tStart are written, from yEnd.
    private void WriteOutputs(Tensor tStart, Tensor tEnd, Tensor accept, Tensor yEnd, Func<Tensor, Tensor>? interpolate)
    {
        var next = work.NextOutput!;
        var direction = work.Direction;
        for (var guard = 0; guard < outputCount; guard++)
        {
            Tensor inStep, theta, targets;
            using (no_grad())
            {
                var hasMore = next.lt(outputCount);
                var slot = next.clamp_max(outputCount - 1);
                var tau = work.OutputTimes!.gather(1, slot.unsqueeze(1)).squeeze(1);
                inStep = hasMore.logical_and_(accept).logical_and_(tau.sub(tEnd).mul_(direction).le(0));
                if (!inStep.any().item<bool>())
                {
                    break;
                }

                var span = tEnd.sub(tStart);
                var safeSpan = span.masked_fill(span.eq(0), 1.0);
                theta = tau.sub(tStart).div_(safeSpan).clamp_(0.0, 1.0).masked_fill_(span.eq(0), 1.0);
                targets = inStep.nonzero().squeeze(1);
                next = next.add(inStep.to_type(ScalarType.Int64));
            }

            // At θ = 1 take the step's own end state, bit for bit.
            var values = interpolate is null ? yEnd : where(PerRow(theta.eq(1.0)), yEnd, interpolate(InStateDtype(theta)));

            var rowsOut = work.Index.index_select(0, targets);
            var slots = next.index_select(0, targets).sub(1);
            ys!.index_put_(values.index_select(0, targets), [rowsOut, slots]);
        }

        work.NextOutput = next;
    }

    private Tensor Evaluate(Tensor time, Tensor state)
    {
        calls++;
        callsThisIteration++;
        rowEvaluations += state.shape[0];
        using var scope = NewDisposeScope();
        var slope = dynamics(time, state, work.Index)
            ?? throw new InvalidOperationException("The dynamics returned null; dy/dt must be a tensor of the state's shape.");
        if (slope.IsInvalid)
        {
            throw new InvalidOperationException("The dynamics returned a disposed tensor; dy/dt must be a live tensor of the state's shape.");
        }

        if (slope.dtype != state.dtype || slope.device_type != state.device_type || !slope.shape.SequenceEqual(state.shape))
        {
            throw new InvalidOperationException(
                $"The dynamics returned a {slope.dtype} tensor of shape [{string.Join(", ", slope.shape)}] on {slope.device} " +
                $"for a {state.dtype} state of shape [{string.Join(", ", state.shape)}] on {state.device}; dy/dt must match the state's shape, dtype and device.");
        }

        // The solver owns and may scale the slope in place, and disposes it when done: a tensor the dynamics did not
        // create in this call (the state, the time, a buffer it keeps and returns again) is copied, so the caller's
        // tensors are never modified or disposed. So is a fresh view of the state's memory (checked on the first
        // call: dynamics that return one do so every time).
        if (!aliasChecked)
        {
            aliasChecked = true;
            copySlopes = SharesMemory(slope, state);
        }

        var owned = scope.Contains(slope);
        var result = copySlopes || !owned ? slope.clone() : slope;
        return result.MoveToOuterDisposeScope();
    }

    private static bool SharesMemory(Tensor a, Tensor b) => a.dtype switch
    {
        ScalarType.Float32 => a.storage<float>().data_ptr() == b.storage<float>().data_ptr(),
        ScalarType.Float64 => a.storage<double>().data_ptr() == b.storage<double>().data_ptr(),
        _ => false,
    };

    // The clock's float64 values as the dynamics and the step see them (in the state's dtype); a new tensor.
    private Tensor InStateDtype(Tensor clock) => dtype == ScalarType.Float64 ? clock.alias() : clock.to_type(dtype);

    private Tensor PerRow(Tensor perRow) => StepKernels.PerRow(perRow, work.Y);

    // x / scale where 0 / 0 is 0 (pure relative control, atol = 0, at a state that is exactly zero).
    private static Tensor SafeDivide(Tensor x, Tensor scale)
    {
        var ratio = x.div(scale);
        return ratio.masked_fill_(x.eq(0), 0.0);
    }

    private static Tensor RmsRows(Tensor x) => x.reshape(x.shape[0], -1).square().mean([1]).sqrt_();

    // NaN and ±Inf propagate through amax, so this is one cheap reduction instead of a [B, D] isfinite.
    private static Tensor RowsFinite(Tensor x) => x.reshape(x.shape[0], -1).abs().amax([1]).isfinite();
}
