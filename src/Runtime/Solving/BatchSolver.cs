using NeuralOde.Stepping;
using TorchSharp;
using static TorchSharp.torch;

namespace NeuralOde.Solving;

/// <summary>
/// The batched solver loop: every row keeps its own time, step size, controller history and status; rows that
/// finished or failed never change again, and once enough of them are done they leave the work set, so that only
/// running rows are stepped (their final values are scattered into the results once, when they leave).
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

    private static readonly Scalar SuccessCode = ((long)SolverStatus.Success).ToScalar();
    private static readonly Scalar ReachedDtMinCode = ((long)SolverStatus.ReachedDtMin).ToScalar();
    private static readonly Scalar ReachedMaxStepsCode = ((long)SolverStatus.ReachedMaxSteps).ToScalar();
    private static readonly Scalar NonFiniteCode = ((long)SolverStatus.NonFinite).ToScalar();

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

    // Per-row state of the work set (the rows still being stepped, W of them), [W] unless noted. Owned: detached
    // from scopes, replaced generation by generation. `work` maps each work row to its row in the batch.
    private Tensor work;       // int64
    private Tensor y;          // [W, ...]
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
    private Tensor? outputTimes; // [W, T]
    private Tensor? nextOutput;  // int64: index of the next output time not yet written
    private Tensor? ys;          // [B, T, ...], in batch order
    private Results? results;    // rows that left the work set, in batch order; null until the first compaction

    private readonly IStepObserver? observer;
    private readonly bool slopeCheckedByError;
    private readonly double clockResolution;

    private long calls;
    private int callsThisIteration;
    private bool aliasChecked;
    private bool copySlopes;
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
        // Before the first solve's tensors: keep glibc's heap from growing over a long run of solves (see NativeHeap).
        NativeHeap.EnsureConfigured();
        this.observer = observer;

        // The smallest step that still moves the clock: |t|·ε, with a little margin.
        var epsilon = y0.dtype switch
        {
            ScalarType.Float64 => 2.220446049250313e-16,
            ScalarType.Float16 or ScalarType.BFloat16 => 1e-3,
            _ => 1.1920929e-07,
        };
        clockResolution = Math.Max(Math.Max(Math.Abs(t0), Math.Abs(t1)), 1e-300) * epsilon * 4;
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
        work = Own(arange(rows, dtype: ScalarType.Int64, device: device));
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
            Replace(ref status, status.masked_fill(status.eq(RunningCode), ReachedMaxStepsCode));
            if (results is not null)
            {
                var all = arange(work.shape[0], dtype: ScalarType.Int64, device: device);
                results.Record(work, all, y, t, status, accepted, rejected, evaluations);
            }
        }

        if (results is null)
        {
            // The work set never shrank: it is the batch, in order.
            var stats = new SolverStats(Take(ref evaluations), Take(ref accepted), Take(ref rejected), calls);
            return new OdeSolution(Take(ref y), Take(ref t), requestedTimes?.alias().DetachFromDisposeScope(), TakeOptional(ref ys), Take(ref status), stats);
        }

        var final = results;
        results = null;
        var finalStats = new SolverStats(final.Evaluations, final.Accepted, final.Rejected, calls);
        return new OdeSolution(final.Y, final.T, requestedTimes?.alias().DetachFromDisposeScope(), TakeOptional(ref ys), final.Status, finalStats);
    }

    public void Dispose()
    {
        foreach (var tensor in new[] { work, y, t, dt, k1, status, attempts, accepted, rejected, evaluations, errorPrev1, errorPrev2, rtol, atol, outputTimes, nextOutput, ys })
        {
            if (tensor is not null && !tensor.IsInvalid)
            {
                tensor.Dispose();
            }
        }

        results?.Dispose();
    }

    // The first slope, non-finite initial states, outputs at t0 and the initial step.
    private void Start()
    {
        using var scope = NewDisposeScope();
        callsThisIteration = 0;
        currentRows = work;
        var slope = Evaluate(t, y);
        Replace(ref k1, slope);
        using (no_grad())
        {
            var finite = RowsFinite(y).logical_and_(RowsFinite(slope));
            Replace(ref status, status.masked_fill(finite.logical_not().logical_and_(status.eq(RunningCode)), NonFiniteCode));
        }

        if (ys is not null)
        {
            var noStep = full(rows, t0, dtype: dtype, device: device);
            WriteOutputs(noStep, noStep, ones(rows, dtype: ScalarType.Bool, device: device), y, _ => y);
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

    // One step of every running row of the work set. Returns false when no row is running.
    private bool Iterate(long iteration)
    {
        using var scope = NewDisposeScope();
        var running = status.eq(RunningCode);
        var runningCount = running.sum().item<long>();
        if (runningCount == 0)
        {
            return false;
        }

        // Compaction: drop finished and failed rows from the work set, so that they cost nothing any more.
        var width = work.shape[0];
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
        currentRows = work;
        var active = running;

        Tensor dta, last, tEnd;
        if (fixedGrid is null)
        {
            // Clip the step so that it lands exactly on t1.
            var remaining = t.neg().add_(t1);
            last = dt.abs().ge(remaining.abs());
            dta = where(last, remaining, dt);
            tEnd = t.add(dta).masked_fill_(last, t1);
        }
        else
        {
            var from = fixedGrid[iteration];
            var to = fixedGrid[iteration + 1];
            dta = full(width, to - from, dtype: dtype, device: device);
            last = full(width, iteration + 2 == fixedGrid.Length, dtype: ScalarType.Bool, device: device);
            tEnd = full(width, to, dtype: dtype, device: device);
        }

        observer?.BeginStep(work, dta, active);
        var step = scheme.Step(Evaluate, t, dta, y, k1);

        Tensor accept, finite, errorNorm;
        using (no_grad())
        {
            var y1d = step.Y.detach();
            if (fixedGrid is null)
            {
                var scale = y.detach().abs().maximum(y1d.abs()).mul_(PerRow(rtol)).add_(PerRow(atol));
                errorNorm = RmsRows(step.Error!.detach().div(scale));
                if (options.SharedStepSize)
                {
                    // One norm for the batch: the RMS over all elements of the running rows (and of any channel an
                    // observer integrates outside the state, such as an adjoint's parameter gradient).
                    var weight = active.to_type(dtype);
                    var perRow = y.numel() / Math.Max(width, 1);
                    var sumOfSquares = errorNorm.square().mul_(weight).sum().mul_(perRow);
                    var count = weight.sum().mul_(perRow);
                    if (observer?.ErrorContribution(new StepContext(work, t, dta, y, step, active)) is var (extraSquares, extraCount))
                    {
                        sumOfSquares = sumOfSquares.add(extraSquares.detach().to(dtype));
                        count = count.add(extraCount);
                    }

                    errorNorm = sumOfSquares.div_(count.clamp_min_(1.0)).sqrt_().expand(width).contiguous();
                }

                finite = errorNorm.isfinite().logical_and_(RowsFinite(y1d));
                if (options.SharedStepSize)
                {
                    finite = finite.logical_or(active.logical_not()).all().expand(width).contiguous();
                }

                accept = errorNorm.le(1.0).logical_and_(finite).logical_and_(active);
            }
            else
            {
                errorNorm = zeros(width, dtype: dtype, device: device);
                finite = RowsFinite(y1d);
                accept = finite.logical_and(active);
            }
        }

        observer?.Accepted(new StepContext(work, t, dta, y, step, active), accept);

        // When every row of the work set accepted (the common case), selecting is a no-op: skip it. Rows that are
        // not running are never accepted, so they keep their state bit for bit.
        var allAccepted = accept.all().item<bool>();
        var acceptRows = PerRow(accept);
        var yNew = allAccepted ? step.Y : where(acceptRows, step.Y, y);
        var tNew = allAccepted ? tEnd : where(accept, tEnd, t);
        var done = accept.logical_and(last);

        // The slope at the new state: free for FSAL schemes, one evaluation otherwise (it is the next step's k1).
        Tensor k1New;
        if (scheme.IsFsal && step.EndSlope is not null)
        {
            k1New = allAccepted ? step.EndSlope : where(acceptRows, step.EndSlope, k1);
        }
        else
        {
            var needSlope = ys is not null ? accept : accept.logical_and(done.logical_not());
            k1New = !needSlope.any().item<bool>() ? k1
                : allAccepted ? Evaluate(tEnd, step.Y)
                : where(acceptRows, Evaluate(tEnd, step.Y), k1);
        }

        Tensor newStatus;
        using (no_grad())
        {
            newStatus = status.masked_fill(done, SuccessCode);

            // An accepted state whose slope is not finite cannot be continued. (FSAL schemes whose last stage
            // enters the error estimate already rejected such a step.)
            if (!slopeCheckedByError)
            {
                var slopeBad = accept.logical_and(done.logical_not()).logical_and_(RowsFinite(k1New.detach()).logical_not());
                newStatus.masked_fill_(slopeBad, NonFiniteCode);
            }

            if (fixedGrid is not null)
            {
                var failed = active.logical_and(finite.logical_not());
                newStatus.masked_fill_(failed, NonFiniteCode);
            }
        }

        if (ys is not null)
        {
            var stepRef = step;
            var yStart = y;
            var yEnd = step.Y;
            var slopeStart = k1;
            var slopeEnd = k1New;
            WriteOutputs(t, tEnd, accept, yEnd, theta =>
                scheme.HasDenseOutput
                    ? scheme.Interpolate(yStart, stepRef, theta)
                    : Hermite.Interpolate(yStart, yEnd, slopeStart, slopeEnd, dta, theta));
        }

        Tensor nextDt, nextPrev1, nextPrev2, attemptsNew;
        using (no_grad())
        {
            attemptsNew = attempts.add(active.to_type(ScalarType.Int64));
            if (fixedGrid is null)
            {
                (nextDt, nextPrev1, nextPrev2) = Control(dta, dt, errorNorm, finite, accept, active, errorPrev1, errorPrev2, ref newStatus);
                nextDt = where(active, nextDt, dt);
                var outOfSteps = newStatus.eq(RunningCode).logical_and_(attemptsNew.ge(options.MaxSteps));
                newStatus.masked_fill_(outOfSteps, ReachedMaxStepsCode);
            }
            else
            {
                (nextDt, nextPrev1, nextPrev2) = (dt, errorPrev1, errorPrev2);
            }
        }

        var rejectedStep = active.logical_and(accept.logical_not());
        Replace(ref y, yNew);
        Replace(ref t, tNew);
        Replace(ref dt, nextDt);
        Replace(ref k1, k1New);
        Replace(ref status, newStatus);
        Replace(ref attempts, attemptsNew);
        Replace(ref accepted, accepted.add(accept.to_type(ScalarType.Int64)));
        Replace(ref rejected, rejected.add(rejectedStep.to_type(ScalarType.Int64)));
        Replace(ref errorPrev1, nextPrev1);
        Replace(ref errorPrev2, nextPrev2);

        // Every row of the work set was evaluated, running or not.
        evaluations.add_(callsThisIteration);
        return true;
    }

    // Takes the rows that are not in `keep` out of the work set, recording their final values in the results.
    private void Retire(Tensor keep)
    {
        var kept = keep.nonzero().squeeze(1);
        if (results is null)
        {
            // The first retirement: the work set is still the whole batch in order, so it becomes the results.
            results = new Results(y, t, status, accepted, rejected, evaluations);
            Tensor Select(Tensor x) => x.index_select(0, kept).DetachFromDisposeScope();
            y = Select(y);
            t = Select(t);
            status = Select(status);
            accepted = Select(accepted);
            rejected = Select(rejected);
            evaluations = Select(evaluations);
        }
        else
        {
            var leaving = keep.logical_not().nonzero().squeeze(1);
            results.Record(work.index_select(0, leaving), leaving, y, t, status, accepted, rejected, evaluations);
            Replace(ref y, y.index_select(0, kept));
            Replace(ref t, t.index_select(0, kept));
            Replace(ref status, status.index_select(0, kept));
            Replace(ref accepted, accepted.index_select(0, kept));
            Replace(ref rejected, rejected.index_select(0, kept));
            Replace(ref evaluations, evaluations.index_select(0, kept));
        }

        Replace(ref work, work.index_select(0, kept));
        Replace(ref dt, dt.index_select(0, kept));
        Replace(ref k1, k1.index_select(0, kept));
        Replace(ref attempts, attempts.index_select(0, kept));
        Replace(ref errorPrev1, errorPrev1.index_select(0, kept));
        Replace(ref errorPrev2, errorPrev2.index_select(0, kept));
        Replace(ref rtol, rtol.index_select(0, kept));
        Replace(ref atol, atol.index_select(0, kept));
        if (outputTimes is not null)
        {
            Replace(ref outputTimes, outputTimes.index_select(0, kept));
            Replace(ref nextOutput!, nextOutput!.index_select(0, kept));
        }
    }

    // The final per-row values of rows that left the work set, [B, ...] in batch order.
    private sealed class Results(Tensor y, Tensor t, Tensor status, Tensor accepted, Tensor rejected, Tensor evaluations) : IDisposable
    {
        public Tensor Y { get; private set; } = y;

        public Tensor T { get; private set; } = t;

        public Tensor Status { get; private set; } = status;

        public Tensor Accepted { get; private set; } = accepted;

        public Tensor Rejected { get; private set; } = rejected;

        public Tensor Evaluations { get; private set; } = evaluations;

        // Writes rows `from` of the work-set tensors into rows `to` of the results.
        public void Record(Tensor to, Tensor from, Tensor y, Tensor t, Tensor status, Tensor accepted, Tensor rejected, Tensor evaluations)
        {
            static Tensor Put(Tensor target, Tensor to, Tensor source, Tensor from)
            {
                var updated = target.index_copy(0, to, source.index_select(0, from)).DetachFromDisposeScope();
                target.Dispose();
                return updated;
            }

            Y = Put(Y, to, y, from);
            T = Put(T, to, t, from);
            Status = Put(Status, to, status, from);
            Accepted = Put(Accepted, to, accepted, from);
            Rejected = Put(Rejected, to, rejected, from);
            Evaluations = Put(Evaluations, to, evaluations, from);
        }

        public void Dispose()
        {
            foreach (var tensor in new[] { Y, T, Status, Accepted, Rejected, Evaluations })
            {
                tensor.Dispose();
            }
        }
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
        factor = where(accept, factor, factor.clamp_max(1.0));

        // The clipped last step says nothing about the step the row could take: base the next one on the plan
        // when the clip shortened it and the step was accepted.
        var basis = where(accept, planned.abs(), dta.abs());
        var magnitude = basis.mul(factor).clamp_(options.DtMin, options.DtMax);

        // A rejected step at the minimum size (or too small to move t at all) ends the row.
        var tooSmall = dta.abs().le(Math.Max(options.DtMin, clockResolution));
        var stuck = active.logical_and(accept.logical_not()).logical_and_(tooSmall);
        newStatus = newStatus.masked_fill(stuck.logical_and(finite), ReachedDtMinCode).masked_fill_(stuck.logical_and_(notFinite), NonFiniteCode);

        var safeNorm = errorNorm.masked_fill(notFinite, 1.0).clamp_min_(1e-10);
        var nextPrev2 = where(accept, prev1, prev2);
        var nextPrev1 = where(accept, safeNorm, prev1);
        return (magnitude.mul_(direction), nextPrev1, nextPrev2);
    }

    // x^p computed the same way for every element wherever it sits in the batch. A contiguous pow runs a vectorized
    // body and a scalar tail that can round differently in the last bit, which would make a row's steps depend on
    // its position (and so differ between a compacted and a masked batch); a strided view takes the scalar path
    // for every element.
    private static Tensor RowwisePow(Tensor x, double exponent) =>
        stack([x, x], 1).select(1, 0).pow(exponent);

    // Writes the states at every output time that falls inside [tStart, tEnd] of an accepted step of the work set.
    private void WriteOutputs(Tensor tStart, Tensor tEnd, Tensor accept, Tensor yEnd, Func<Tensor, Tensor> interpolate)
    {
        var next = nextOutput!;
        for (var guard = 0; guard < outputCount; guard++)
        {
            Tensor inStep, theta, targets;
            using (no_grad())
            {
                var hasMore = next.lt(outputCount);
                var slot = next.clamp_max(outputCount - 1);
                var tau = outputTimes!.gather(1, slot.unsqueeze(1)).squeeze(1);
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

            var rowsOut = work.index_select(0, targets);
            var slots = next.index_select(0, targets).sub(1);
            ys!.index_put_(values.index_select(0, targets), [rowsOut, slots]);
        }

        Replace(ref nextOutput!, next);
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

        // The step may scale the slope in place: never let it overwrite the caller's state. A slope that is the
        // state itself, or a view of its memory (checked on the first call: dynamics that return one do so every
        // time), is copied.
        if (!aliasChecked)
        {
            aliasChecked = true;
            copySlopes = SharesMemory(slope, state);
        }

        return copySlopes || ReferenceEquals(slope, state) || ReferenceEquals(slope, time) ? slope.clone() : slope;
    }

    private static bool SharesMemory(Tensor a, Tensor b) => a.dtype switch
    {
        ScalarType.Float32 => a.storage<float>().data_ptr() == b.storage<float>().data_ptr(),
        ScalarType.Float64 => a.storage<double>().data_ptr() == b.storage<double>().data_ptr(),
        _ => false,
    };

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
    /// <summary>Called right before a step's stages are evaluated (the dynamics' calls until <see cref="Accepted"/>
    /// are the stages 2…s, in order).</summary>
    /// <param name="rows">The global row of each row of the work set, <c>[W]</c>.</param>
    /// <param name="dt">Each row's step, <c>[W]</c>.</param>
    /// <param name="active">Which rows are running, <c>[W]</c>.</param>
    void BeginStep(Tensor rows, Tensor dt, Tensor active);

    /// <summary>With a shared step size, the observer's error as a sum of squared scaled errors and an element count,
    /// added to the batch norm; null to add nothing.</summary>
    (Tensor SumOfSquares, long Count)? ErrorContribution(StepContext context);

    /// <summary>Called once the accept mask of the step is known, before the state moves on.</summary>
    void Accepted(StepContext context, Tensor accept);
}
