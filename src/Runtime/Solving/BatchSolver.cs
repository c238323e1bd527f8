using NeuralOde.Stepping;
using TorchSharp;
using static TorchSharp.torch;

namespace NeuralOde.Solving;

/// <summary>
/// The batched solver loop: every row keeps its own time, step size, controller history and status; rows that
/// finished or failed never change again, and once few rows run, only those are stepped (gather → step → scatter).
/// </summary>
/// <remarks>
/// All per-row state lives in tensors owned by this object (detached from every dispose scope); each iteration
/// opens one scope for its temporaries and swaps in the next generation of state, disposing the previous one.
/// Control quantities (error norms, step sizes, masks) are computed without autograd; the states themselves keep
/// their graph, so backpropagation through the solve works.
/// </remarks>
internal sealed class BatchSolver : IDisposable
{
    private const long RunningCode = (long)SolverStatus.Running;

    private readonly RungeKuttaScheme scheme;
    private readonly Func<Tensor, Tensor, Tensor, Tensor> dynamics;
    private readonly SolverOptions options;
    private readonly double t0;
    private readonly double t1;
    private readonly double direction;
    private readonly long rows;
    private readonly long[] stateShape;
    private readonly ScalarType dtype;
    private readonly Device device;
    private readonly double[]? fixedGrid;
    private readonly int outputCount;

    // Per-row state, [B] unless noted. Owned: detached from scopes, replaced generation by generation.
    private Tensor y;          // [B, ...]
    private Tensor t;
    private Tensor dt;         // signed planned step
    private Tensor k1;         // [B, ...] f(t, y)
    private Tensor status;     // int64
    private Tensor attempts;   // int64
    private Tensor accepted;   // int64
    private Tensor rejected;   // int64
    private Tensor evaluations; // int64
    private Tensor errorPrev1; // error norm of the last accepted step (1 initially)
    private Tensor errorPrev2; // the one before
    private Tensor rtol;
    private Tensor atol;
    private Tensor? outputTimes; // [B, T]
    private Tensor? nextOutput;  // int64: index of the next output time not yet written
    private Tensor? ys;          // [B, T, ...]

    private readonly IStepObserver? observer;
    private readonly bool slopeCheckedByError;

    private long calls;
    private int callsThisIteration;
    private Tensor? currentRows; // the global rows being evaluated this iteration, [Ba] int64

    public BatchSolver(
        RungeKuttaScheme scheme,
        Func<Tensor, Tensor, Tensor, Tensor> dynamics,
        Tensor y0,
        double t0,
        double t1,
        SolverOptions options,
        double[]? fixedGrid,
        Tensor? outputTimesRows,
        IStepObserver? observer = null)
    {
        this.observer = observer;
        var tableau = scheme.Tableau;
        var last = tableau.Stages - 1;
        slopeCheckedByError = fixedGrid is null && scheme.IsFsal && tableau.BHat is { } bHat && bHat[last].Value != tableau.B[last].Value;
        this.scheme = scheme;
        this.dynamics = dynamics;
        this.options = options;
        this.t0 = t0;
        this.t1 = t1;
        this.fixedGrid = fixedGrid;
        direction = t1 >= t0 ? 1.0 : -1.0;
        rows = y0.shape[0];
        stateShape = y0.shape;
        dtype = y0.dtype;
        device = y0.device;

        using var scope = NewDisposeScope();
        y = Own(y0.alias());
        t = Own(full(rows, t0, dtype: dtype, device: device));
        dt = Own(zeros(rows, dtype: dtype, device: device));
        k1 = Own(zeros_like(y0));
        status = Own(full(rows, t0 == t1 ? (long)SolverStatus.Success : RunningCode, dtype: ScalarType.Int64, device: device));
        attempts = Own(zeros(rows, dtype: ScalarType.Int64, device: device));
        accepted = Own(zeros(rows, dtype: ScalarType.Int64, device: device));
        rejected = Own(zeros(rows, dtype: ScalarType.Int64, device: device));
        evaluations = Own(zeros(rows, dtype: ScalarType.Int64, device: device));
        errorPrev1 = Own(ones(rows, dtype: dtype, device: device));
        errorPrev2 = Own(ones(rows, dtype: dtype, device: device));
        rtol = Own(options.RelativeToleranceRows?.to(dtype).alias() ?? full(rows, options.RelativeTolerance, dtype: dtype, device: device));
        atol = Own(options.AbsoluteToleranceRows?.to(dtype).alias() ?? full(rows, options.AbsoluteTolerance, dtype: dtype, device: device));
        if (outputTimesRows is not null)
        {
            outputCount = (int)outputTimesRows.shape[1];
            outputTimes = Own(outputTimesRows.to(dtype).alias());
            nextOutput = Own(zeros(rows, dtype: ScalarType.Int64, device: device));
            var ysShape = new long[stateShape.Length + 1];
            ysShape[0] = rows;
            ysShape[1] = outputCount;
            Array.Copy(stateShape, 1, ysShape, 2, stateShape.Length - 1);
            ys = Own(full(ysShape, double.NaN, dtype: dtype, device: device));
        }
    }

    public OdeSolution Run(Tensor? requestedTimes)
    {
        Start();
        var maxIterations = fixedGrid is null ? (long)options.MaxSteps : fixedGrid.Length - 1;
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
            Replace(ref status, where(status.eq(RunningCode), full_like(status, (long)SolverStatus.ReachedMaxSteps), status));
        }

        var stats = new SolverStats(Take(ref evaluations), Take(ref accepted), Take(ref rejected), calls);
        return new OdeSolution(Take(ref y), Take(ref t), requestedTimes?.alias().DetachFromDisposeScope(), TakeOptional(ref ys), Take(ref status), stats);
    }

    public void Dispose()
    {
        foreach (var tensor in new[] { y, t, dt, k1, status, attempts, accepted, rejected, evaluations, errorPrev1, errorPrev2, rtol, atol, outputTimes, nextOutput, ys })
        {
            if (tensor is not null && !tensor.IsInvalid)
            {
                tensor.Dispose();
            }
        }
    }

    // The first slope, non-finite initial states, outputs at t0 and the initial step.
    private void Start()
    {
        using var scope = NewDisposeScope();
        callsThisIteration = 0;
        currentRows = arange(rows, dtype: ScalarType.Int64, device: device);
        var slope = Evaluate(t, y);
        Replace(ref k1, slope);
        using (no_grad())
        {
            var finite = RowsFinite(y).logical_and_(RowsFinite(slope));
            Replace(ref status, where(finite.logical_not().logical_and_(status.eq(RunningCode)), full_like(status, (long)SolverStatus.NonFinite), status));
        }

        if (ys is not null)
        {
            var all = arange(rows, dtype: ScalarType.Int64, device: device);
            var noStep = full(rows, t0, dtype: dtype, device: device);
            WriteOutputs(all, noStep, noStep, ones(rows, dtype: ScalarType.Bool, device: device), y, _ => y);
        }

        if (fixedGrid is null)
        {
            Replace(ref dt, InitialStep());
        }

        evaluations.add_(callsThisIteration);
    }

    private Tensor InitialStep()
    {
        var span = Math.Abs(t1 - t0);
        if (options.InitialStep is double given)
        {
            return full(rows, direction * Math.Min(given, span), dtype: dtype, device: device);
        }

        // Hairer, Nørsett & Wanner, Solving ODEs I, §II.4: one extra evaluation per row.
        Tensor h0, d1, scale;
        using (no_grad())
        {
            var yd = y.detach();
            scale = yd.abs().mul_(PerRow(rtol)).add_(PerRow(atol));
            var d0 = RmsRows(yd.div(scale));
            d1 = RmsRows(k1.detach().div(scale));
            var small = d0.lt(1e-5).logical_or_(d1.lt(1e-5));
            h0 = where(small, full_like(d0, 1e-6), d0.div(d1).mul_(0.01)).clamp_max_(span);
        }

        var yProbe = y.detach().add(k1.detach().mul(PerRow(h0.mul(direction))));
        var fProbe = Evaluate(t.add(h0.mul(direction)), yProbe);
        using (no_grad())
        {
            var d2 = RmsRows(fProbe.detach().sub(k1.detach()).div_(scale)).div_(h0);
            var dMax = d1.maximum(d2);
            var order = scheme.Order;
            var h1 = where(
                dMax.le(1e-15),
                h0.mul(1e-3).clamp_min_(1e-6),
                dMax.reciprocal().mul_(0.01).pow_(1.0 / (order + 1)));
            var h = h0.mul(100).minimum(h1).clamp_(options.DtMin, Math.Min(options.DtMax, span));
            if (options.SharedStepSize)
            {
                h = h.min().expand(rows).contiguous();
            }

            return h.mul_(direction);
        }
    }

    // One step of every running row. Returns false when no row is running.
    private bool Iterate(long iteration)
    {
        using var scope = NewDisposeScope();
        var running = status.eq(RunningCode);
        var runningCount = running.sum().item<long>();
        if (runningCount == 0)
        {
            return false;
        }

        callsThisIteration = 0;
        var compact = runningCount < rows && options.Compaction switch
        {
            CompactionMode.Always => true,
            CompactionMode.Never => false,
            _ => runningCount < options.CompactionThreshold * rows,
        };

        var index = compact ? running.nonzero().squeeze(1) : arange(rows, dtype: ScalarType.Int64, device: device);
        currentRows = index;
        Tensor Gather(Tensor x) => compact ? x.index_select(0, index) : x;
        var active = compact ? ones(runningCount, dtype: ScalarType.Bool, device: device) : running;
        var batch = compact ? runningCount : rows;

        var ya = Gather(y);
        var ta = Gather(t);
        var k1a = Gather(k1);
        var planned = Gather(dt);

        Tensor dta, last, tEnd;
        if (fixedGrid is null)
        {
            // Clip the step so that it lands exactly on t1.
            var remaining = ta.neg().add_(t1);
            last = planned.abs().ge(remaining.abs());
            dta = where(last, remaining, planned);
            tEnd = where(last, full_like(ta, t1), ta.add(dta));
        }
        else
        {
            var from = fixedGrid[iteration];
            var to = fixedGrid[iteration + 1];
            dta = full(batch, to - from, dtype: dtype, device: device);
            last = full(batch, iteration + 2 == fixedGrid.Length, dtype: ScalarType.Bool, device: device);
            tEnd = full(batch, to, dtype: dtype, device: device);
        }

        var step = scheme.Step(Evaluate, ta, dta, ya, k1a);

        Tensor accept, finite, errorNorm;
        using (no_grad())
        {
            var y1d = step.Y.detach();
            if (fixedGrid is null)
            {
                var scale = ya.detach().abs().maximum(y1d.abs()).mul_(PerRow(Gather(rtol))).add_(PerRow(Gather(atol)));
                errorNorm = RmsRows(step.Error!.detach().div(scale));
                if (options.SharedStepSize)
                {
                    // One norm for the batch: the RMS over all elements of the running rows (and of any channel an
                    // observer integrates outside the state, such as an adjoint's parameter gradient).
                    var weight = active.to_type(dtype);
                    var perRow = ya.numel() / Math.Max(ya.shape[0], 1);
                    var sumOfSquares = errorNorm.square().mul_(weight).sum().mul_(perRow);
                    var count = weight.sum().mul_(perRow);
                    if (observer?.ErrorContribution(new StepContext(index, ta, dta, ya, step, active)) is var (extraSquares, extraCount))
                    {
                        sumOfSquares = sumOfSquares.add(extraSquares.detach().to(dtype));
                        count = count.add(extraCount);
                    }

                    errorNorm = sumOfSquares.div_(count.clamp_min_(1.0)).sqrt_().expand(batch).contiguous();
                }

                finite = errorNorm.isfinite().logical_and_(RowsFinite(y1d));
                if (options.SharedStepSize)
                {
                    finite = finite.logical_or(active.logical_not()).all().expand(batch).contiguous();
                }
                accept = errorNorm.le(1.0).logical_and_(finite).logical_and_(active);
            }
            else
            {
                errorNorm = zeros(batch, dtype: dtype, device: device);
                finite = RowsFinite(y1d);
                accept = finite.logical_and(active);
            }
        }

        observer?.Accepted(new StepContext(index, ta, dta, ya, step, active), accept);

        // When every stepped row is running and accepted (the common case), selecting is a no-op: skip it.
        var allAccepted = (compact || runningCount == rows) && accept.all().item<bool>();
        var acceptRows = PerRow(accept);
        var yNew = allAccepted ? step.Y : where(acceptRows, step.Y, ya);
        var tNew = allAccepted ? tEnd : where(accept, tEnd, ta);
        var done = accept.logical_and(last);

        // The slope at the new state: free for FSAL schemes, one evaluation otherwise (it is the next step's k1).
        Tensor k1New;
        Tensor newStatus;
        using (no_grad())
        {
            newStatus = where(done, full(batch, (long)SolverStatus.Success, dtype: ScalarType.Int64, device: device), Gather(status));
        }

        if (scheme.IsFsal && step.EndSlope is not null)
        {
            k1New = allAccepted ? step.EndSlope : where(acceptRows, step.EndSlope, k1a);
        }
        else
        {
            var needSlope = accept.logical_and(done.logical_not());
            if (ys is not null)
            {
                needSlope = accept;
            }

            k1New = !needSlope.any().item<bool>() ? k1a
                : allAccepted ? Evaluate(tEnd, step.Y)
                : where(acceptRows, Evaluate(tEnd, step.Y), k1a);
        }

        using (no_grad())
        {
            // An accepted state whose slope is not finite cannot be continued. (FSAL schemes whose last stage
            // enters the error estimate already rejected such a step.)
            if (!slopeCheckedByError)
            {
                var slopeBad = accept.logical_and(done.logical_not()).logical_and_(RowsFinite(k1New.detach()).logical_not());
                newStatus = where(slopeBad, full_like(newStatus, (long)SolverStatus.NonFinite), newStatus);
            }

            if (fixedGrid is not null)
            {
                var failed = active.logical_and(finite.logical_not());
                newStatus = where(failed, full_like(newStatus, (long)SolverStatus.NonFinite), newStatus);
            }
        }

        if (ys is not null)
        {
            var stepRef = step;
            var yStart = ya;
            var yEnd = step.Y;
            var slopeStart = k1a;
            var slopeEnd = k1New;
            WriteOutputs(index, ta, tEnd, accept, yEnd, theta =>
                scheme.HasDenseOutput
                    ? scheme.Interpolate(yStart, stepRef, theta)
                    : Hermite.Interpolate(yStart, yEnd, slopeStart, slopeEnd, dta, theta));
        }

        Tensor nextDt, nextPrev1, nextPrev2, attemptsNew;
        using (no_grad())
        {
            attemptsNew = Gather(attempts).add(active.to_type(ScalarType.Int64));
            if (fixedGrid is null)
            {
                if (compact)
                {
                    // Run the controller at every row's own position in the full batch: transcendental ops (pow)
                    // round differently in the vectorized body and the scalar tail of a kernel, so computing them
                    // at other positions would change the steps of a compacted batch in the last bit.
                    Tensor Scatter(Tensor full, Tensor part) => full.index_copy(0, index, part);
                    var statusFull = Scatter(status, newStatus);
                    var (dtFull, prev1Full, prev2Full) = Control(
                        Scatter(dt, dta),
                        Scatter(dt, planned),
                        Scatter(ones_like(errorPrev1), errorNorm),
                        Scatter(ones(rows, dtype: ScalarType.Bool, device: device), finite),
                        Scatter(zeros(rows, dtype: ScalarType.Bool, device: device), accept),
                        running,
                        errorPrev1,
                        errorPrev2,
                        ref statusFull);
                    (nextDt, nextPrev1, nextPrev2) = (Gather(dtFull), Gather(prev1Full), Gather(prev2Full));
                    newStatus = Gather(statusFull);
                }
                else
                {
                    (nextDt, nextPrev1, nextPrev2) = Control(dta, planned, errorNorm, finite, accept, active, errorPrev1, errorPrev2, ref newStatus);
                }

                var outOfSteps = newStatus.eq(RunningCode).logical_and_(attemptsNew.ge(options.MaxSteps));
                newStatus = where(outOfSteps, full_like(newStatus, (long)SolverStatus.ReachedMaxSteps), newStatus);
            }
            else
            {
                nextDt = planned;
                nextPrev1 = Gather(errorPrev1);
                nextPrev2 = Gather(errorPrev2);
            }
        }

        var rejectedStep = active.logical_and(accept.logical_not());
        var acceptedNew = Gather(accepted).add(accept.to_type(ScalarType.Int64));
        var rejectedNew = Gather(rejected).add(rejectedStep.to_type(ScalarType.Int64));

        if (compact)
        {
            Replace(ref y, y.index_copy(0, index, yNew));
            Replace(ref t, t.index_copy(0, index, tNew));
            Replace(ref dt, dt.index_copy(0, index, nextDt));
            Replace(ref k1, k1.index_copy(0, index, k1New));
            Replace(ref status, status.index_copy(0, index, newStatus));
            Replace(ref attempts, attempts.index_copy(0, index, attemptsNew));
            Replace(ref accepted, accepted.index_copy(0, index, acceptedNew));
            Replace(ref rejected, rejected.index_copy(0, index, rejectedNew));
            Replace(ref errorPrev1, errorPrev1.index_copy(0, index, nextPrev1));
            Replace(ref errorPrev2, errorPrev2.index_copy(0, index, nextPrev2));
            evaluations.index_add_(0, index, full(batch, callsThisIteration, dtype: ScalarType.Int64, device: device), 1);
        }
        else
        {
            // Rows that are not running were not accepted, so yNew, tNew, k1New already hold their old values.
            Replace(ref y, yNew);
            Replace(ref t, tNew);
            Replace(ref dt, where(running, nextDt, dt));
            Replace(ref k1, k1New);
            Replace(ref status, newStatus);
            Replace(ref attempts, attemptsNew);
            Replace(ref accepted, acceptedNew);
            Replace(ref rejected, rejectedNew);
            Replace(ref errorPrev1, nextPrev1);
            Replace(ref errorPrev2, nextPrev2);
            evaluations.add_(callsThisIteration);
        }

        return true;
    }

    // The PID controller per row; also marks rows whose step cannot shrink any further.
    private (Tensor Dt, Tensor Prev1, Tensor Prev2) Control(
        Tensor dta,
        Tensor planned,
        Tensor errorNorm,
        Tensor finite,
        Tensor accept,
        Tensor active,
        Tensor prev1,
        Tensor prev2,
        ref Tensor newStatus)
    {
        var c = options.Controller;
        var k = Math.Min(scheme.Order, scheme.EmbeddedOrder ?? scheme.Order) + 1.0;
        var beta1 = (c.PCoefficient + c.ICoefficient + c.DCoefficient) / k;
        var beta2 = -(c.PCoefficient + 2 * c.DCoefficient) / k;
        var beta3 = c.DCoefficient / k;

        // A zero error gives an infinite proposal, clamped to FactorMax below.
        var factor = errorNorm.pow(-beta1).mul_(c.Safety);
        if (beta2 != 0)
        {
            factor.mul_(prev1.pow(-beta2));
        }

        if (beta3 != 0)
        {
            factor.mul_(prev2.pow(-beta3));
        }

        factor = where(finite, factor, full_like(factor, c.FactorMin)).nan_to_num_(nan: c.FactorMin);
        factor = factor.clamp_(c.FactorMin, c.FactorMax);

        // A rejected step never grows.
        factor = where(accept, factor, factor.clamp_max(1.0));

        // The clipped last step says nothing about the step the row could take: base the next one on the plan
        // when the clip shortened it and the step was accepted.
        var basis = where(accept, planned.abs(), dta.abs());
        var magnitude = basis.mul(factor).clamp_(options.DtMin, options.DtMax);

        // A rejected step at the minimum size (or too small to move t at all) ends the row.
        var tooSmall = dta.abs().le(options.DtMin).logical_or_(dta.abs().le(ClockResolution(dta)));
        var stuck = active.logical_and(accept.logical_not()).logical_and_(tooSmall);
        var failStatus = where(finite, full_like(newStatus, (long)SolverStatus.ReachedDtMin), full_like(newStatus, (long)SolverStatus.NonFinite));
        newStatus = where(stuck, failStatus, newStatus);

        var safeNorm = where(finite, errorNorm, full_like(errorNorm, 1.0)).clamp_min(1e-10);
        var nextPrev2 = where(accept, prev1, prev2);
        var nextPrev1 = where(accept, safeNorm, prev1);
        return (magnitude.mul_(direction), nextPrev1, nextPrev2);
    }

    // The smallest step that still moves the clock: |t|·ε.
    private Tensor ClockResolution(Tensor dta)
    {
        var eps = dtype == ScalarType.Float64 ? 2.220446049250313e-16 : dtype == ScalarType.Float16 || dtype == ScalarType.BFloat16 ? 1e-3 : 1.1920929e-07;
        var scale = Math.Max(Math.Abs(t0), Math.Abs(t1));
        return full_like(dta, Math.Max(scale, 1e-300) * eps * 4);
    }

    // Writes the states at every output time that falls inside [tStart, tEnd] of an accepted step.
    private void WriteOutputs(Tensor index, Tensor tStart, Tensor tEnd, Tensor accept, Tensor yEnd, Func<Tensor, Tensor> interpolate)
    {
        var times = outputTimes!.index_select(0, index);
        var next = nextOutput!.index_select(0, index);
        for (var guard = 0; guard < outputCount; guard++)
        {
            Tensor inStep, theta, targets;
            using (no_grad())
            {
                var hasMore = next.lt(outputCount);
                var slot = next.clamp_max(outputCount - 1);
                var tau = times.gather(1, slot.unsqueeze(1)).squeeze(1);
                inStep = hasMore.logical_and_(accept).logical_and_(tau.sub(tEnd).mul_(direction).le(0));
                if (!inStep.any().item<bool>())
                {
                    break;
                }

                var span = tEnd.sub(tStart);
                var safeSpan = where(span.eq(0), ones_like(span), span);
                theta = tau.sub(tStart).div_(safeSpan).clamp_(0.0, 1.0);
                targets = inStep.nonzero().squeeze(1);
                next = next.add(inStep.to_type(ScalarType.Int64));
            }

            // At θ = 1 take the step's own end state, bit for bit.
            var values = where(PerRow(theta.eq(1.0)), yEnd, interpolate(theta));

            var rowsOut = index.index_select(0, targets);
            var slots = next.index_select(0, targets).sub(1);
            ys!.index_put_(values.index_select(0, targets), [rowsOut, slots]);
        }

        Replace(ref nextOutput!, nextOutput!.index_copy(0, index, next));
    }

    private Tensor Evaluate(Tensor time, Tensor state)
    {
        calls++;
        callsThisIteration++;
        var slope = dynamics(time, state, currentRows!)
            ?? throw new InvalidOperationException("The dynamics returned null; dy/dt must be a tensor of the state's shape.");
        if (slope.dtype != state.dtype || slope.device_type != state.device_type || !slope.shape.SequenceEqual(state.shape))
        {
            throw new InvalidOperationException(
                $"The dynamics returned a {slope.dtype} tensor of shape [{string.Join(", ", slope.shape)}] on {slope.device} " +
                $"for a {state.dtype} state of shape [{string.Join(", ", state.shape)}] on {state.device}; dy/dt must match the state's shape, dtype and device.");
        }

        // The step may scale the slope in place: never let it overwrite the caller's state.
        return ReferenceEquals(slope, state) || ReferenceEquals(slope, time) ? slope.clone() : slope;
    }

    private Tensor PerRow(Tensor perRow) => StepKernels.PerRow(perRow, y);

    private Tensor RmsRows(Tensor x) => x.reshape(x.shape[0], -1).square().mean([1]).sqrt_();

    // NaN and ±Inf propagate through amax, so this is one cheap reduction instead of a [B, D] isfinite.
    private static Tensor RowsFinite(Tensor x) => x.reshape(x.shape[0], -1).abs().amax([1]).isfinite();

    private static Tensor Own(Tensor tensor) => tensor.DetachFromDisposeScope();

    private static void Replace(ref Tensor field, Tensor next)
    {
        if (ReferenceEquals(field, next))
        {
            return;
        }

        var old = field;
        field = next.DetachFromDisposeScope();
        old.Dispose();
    }

    private static Tensor? TakeOptional(ref Tensor? field)
    {
        var taken = field;
        field = null;
        return taken;
    }

    private static Tensor Take(ref Tensor field)
    {
        var taken = field;
        field = null!;
        return taken;
    }
}

/// <summary>What a step observer sees of one step of the running rows.</summary>
/// <param name="Index">The global row of each stepped row, <c>[Ba]</c>.</param>
/// <param name="T">Each stepped row's time at the step's start, <c>[Ba]</c>.</param>
/// <param name="Dt">Each stepped row's step, <c>[Ba]</c>.</param>
/// <param name="Y">The state at the step's start, <c>[Ba, ...]</c>.</param>
/// <param name="Step">The step's results, including the scaled stages.</param>
/// <param name="Active">Which stepped rows are running, <c>[Ba]</c> (all of them when compacted).</param>
internal sealed record StepContext(Tensor Index, Tensor T, Tensor Dt, Tensor Y, RungeKuttaStep Step, Tensor Active);

/// <summary>Lets a caller integrate a quantity alongside the solve without putting it in the per-row state
/// (the adjoint's parameter gradient, which is a sum over rows).</summary>
internal interface IStepObserver
{
    /// <summary>With a shared step size, the observer's error as a sum of squared scaled errors and an element count,
    /// added to the batch norm; null to add nothing.</summary>
    (Tensor SumOfSquares, long Count)? ErrorContribution(StepContext context);

    /// <summary>Called once the accept mask of the step is known, before the state moves on.</summary>
    void Accepted(StepContext context, Tensor accept);
}
