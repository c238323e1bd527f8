using NeuralOde.Solving.Control;
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

    private static readonly Scalar SuccessCode = ((long)SolverStatus.Success).ToScalar();
    private static readonly Scalar ReachedDtMinCode = ((long)SolverStatus.ReachedDtMin).ToScalar();
    private static readonly Scalar ReachedMaxStepsCode = ((long)SolverStatus.ReachedMaxSteps).ToScalar();
    private static readonly Scalar NonFiniteCode = ((long)SolverStatus.NonFinite).ToScalar();
    private static readonly Scalar EventCode = ((long)SolverStatus.Event).ToScalar();

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
    private readonly StepController controller;

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
        // Before the first solve's tensors: keep glibc's heap from growing over a long run of solves (see NativeHeap).
        NativeHeap.EnsureConfigured();
        this.observer = observer;
        var tableau = scheme.Tableau;
        var last = tableau.Stages - 1;
        slopeCheckedByError = fixedPlan is null && scheme.IsFsal && tableau.BHat is { } bHat && bHat[last].Value != tableau.B[last].Value;
        this.scheme = scheme;
        this.dynamics = dynamics;
        this.options = options;
        this.fixedPlan = fixedPlan;
        controller = new StepController(
            options.Controller,
            scheme.Order,
            Math.Min(scheme.Order, scheme.EmbeddedOrder ?? scheme.Order),
            options.DtMin,
            options.DtMax,
            options.SharedStepSize);
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
        if (options.Event is not null)
        {
            work.EventTime = full(rows, double.NaN, dtype: ScalarType.Float64, device: device);
            work.EventIndex = full(rows, -1L, dtype: ScalarType.Int64, device: device);
        }

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
        return new OdeSolution(final.Y, final.T, ts, outputs, final.Status, stats, final.EventTime, final.EventIndex);
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

        if (options.Event is { } events)
        {
            var values = events.Evaluate(InStateDtype(work.T), work.Y, work.Index);
            using (no_grad())
            {
                var bad = values.isfinite().all(1).logical_not().logical_and_(running);
                work.Status = work.Status.masked_fill(bad, NonFiniteCode);
                running = work.Status.eq(RunningCode);
            }

            work.EventValues = values;
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
            var start = new InitialStepInput(work.Y, work.K1, work.T, work.T0, work.T1, work.Direction, work.Rtol, work.Atol, running);
            work.Dt = controller.InitialStep(options.InitialStep, start, (time, state) => Evaluate(InStateDtype(time), state));
        }

        work.Evaluations = work.Evaluations.add(running.to_type(ScalarType.Int64).mul_(callsThisIteration));
    }

    // One step of every running row of the work set, in named phases. Returns false when no row is running.
    private bool Iterate(long iteration)
    {
        using var scope = NewDisposeScope();
        if (Compact() is not { } active)
        {
            return false;
        }

        var attempt = Clip(iteration, active);
        TakeStep(attempt);
        Assess(attempt);
        Accept(attempt);
        LocateEvents(attempt);
        WriteOutputs(attempt);
        Control(attempt);
        Commit(attempt);
        return true;
    }

    // Which rows of the work set step (null when none is running). Finished and failed rows leave the work set
    // first when the compaction mode says so, so that they cost nothing any more.
    private Tensor? Compact()
    {
        var running = work.Status.eq(RunningCode);
        var runningCount = running.sum().item<long>();
        if (runningCount == 0)
        {
            return null;
        }

        var width = work.Count;
        var shrink = runningCount < width && options.Compaction switch
        {
            CompactionMode.Always => true,
            CompactionMode.Never => false,
            _ => runningCount < options.CompactionThreshold * width,
        };

        if (!shrink)
        {
            return running;
        }

        Retire(running);
        return ones(runningCount, dtype: ScalarType.Bool, device: device);
    }

    // The step each row attempts: the planned one, clipped to land exactly on t1 (or the fixed grid's next step).
    private StepAttempt Clip(long iteration, Tensor active)
    {
        var t = work.T;
        Tensor dta, last, tEnd;
        using (no_grad())
        {
            if (fixedPlan is null)
            {
                // The step is the clock's own increment: t + dt rounds in float64, so the state is integrated over
                // exactly the distance the clock moves (which matters where |t| is large and dt small). A step whose
                // rounded end reaches t1 is the last one and lands on t1 exactly.
                var next = t.add(work.Dt);
                last = next.sub(work.T1).mul_(work.Direction).ge(0);
                tEnd = where(last, work.T1, next);
                dta = tEnd.sub(t);
            }
            else
            {
                (dta, last, tEnd) = fixedPlan.Next(iteration, work);
            }
        }

        return new StepAttempt
        {
            Active = active,
            T = t,
            Y = work.Y,
            K1 = work.K1,
            Dt = dta,
            Last = last,
            TEnd = tEnd,
            TState = InStateDtype(t),
            DtState = InStateDtype(dta),
        };
    }

    // The generated step of every row of the work set (running or not: masked rows are discarded later).
    private void TakeStep(StepAttempt attempt)
    {
        callsThisIteration = 0;
        observer?.BeginStep(work.Index, attempt.DtState, attempt.Active);
        attempt.Step = scheme.Step(Evaluate, attempt.TState, attempt.DtState, attempt.Y, attempt.K1);
        attempt.StageCalls = callsThisIteration;
    }

    // Finiteness, the error norm and which rows accept.
    private void Assess(StepAttempt attempt)
    {
        var step = attempt.Step;
        var active = attempt.Active;
        using (no_grad())
        {
            var y1d = step.Y.detach();
            var rowFinite = RowsFinite(y1d);
            if (fixedPlan is null)
            {
                var errorNorm = StepController.ErrorNorm(step.Error!.detach(), attempt.Y.detach(), y1d, PerRow(work.Rtol), PerRow(work.Atol), pureRelative);
                rowFinite = rowFinite.logical_and_(errorNorm.isfinite());
                var finite = rowFinite;
                if (options.SharedStepSize)
                {
                    var extra = observer?.ErrorContribution(Context(attempt));
                    (errorNorm, finite) = StepController.SharedNorm(errorNorm, rowFinite, active, attempt.Y.numel() / Math.Max(work.Count, 1), extra);
                }

                attempt.ErrorNorm = errorNorm;
                attempt.Finite = finite;
                attempt.Accept = errorNorm.le(1.0).logical_and_(finite).logical_and_(active);
            }
            else
            {
                attempt.ErrorNorm = zeros(work.Count, dtype: dtype, device: device);
                attempt.Finite = rowFinite;
                attempt.Accept = rowFinite.logical_and(active);
            }

            attempt.RowFinite = rowFinite;
        }

        observer?.Accepted(Context(attempt), attempt.Accept);
    }

    // The next state, time and slope of every row, and the statuses the step itself decides.
    private void Accept(StepAttempt attempt)
    {
        // When every row of the work set accepted (the common case), selecting is a no-op: skip it. Rows that are
        // not running are never accepted, so they keep their state bit for bit.
        var step = attempt.Step;
        var accept = attempt.Accept;
        var allAccepted = accept.all().item<bool>();
        var acceptRows = PerRow(accept);
        attempt.AllAccepted = allAccepted;
        attempt.YNew = allAccepted ? step.Y : where(acceptRows, step.Y, attempt.Y);
        attempt.TNew = allAccepted ? attempt.TEnd : where(accept, attempt.TEnd, attempt.T);
        var done = accept.logical_and(attempt.Last);
        attempt.Done = done;

        // The slope at the new state: free for FSAL schemes, one evaluation otherwise (it is the next step's k1).
        if (scheme.IsFsal && step.EndSlope is not null)
        {
            attempt.K1New = allAccepted ? step.EndSlope : where(acceptRows, step.EndSlope, attempt.K1);
        }
        else
        {
            // Outputs and events interpolate inside the last step too, which needs its end slope.
            var needSlope = ys is not null || options.Event is not null ? accept : accept.logical_and(done.logical_not());
            if (needSlope.any().item<bool>())
            {
                var slope = Evaluate(InStateDtype(attempt.TEnd), step.Y);
                attempt.K1New = allAccepted ? slope : where(acceptRows, slope, attempt.K1);

                // The rows that needed it count this evaluation as their own; the others were only carried along.
                attempt.SlopeEvaluated = needSlope;
            }
            else
            {
                attempt.K1New = attempt.K1;
            }
        }

        using (no_grad())
        {
            var status = work.Status.masked_fill(done, SuccessCode);

            // An accepted state whose slope is not finite cannot be continued. (FSAL schemes whose last stage
            // enters the error estimate already rejected such a step.)
            if (!slopeCheckedByError)
            {
                var slopeBad = accept.logical_and(done.logical_not()).logical_and_(RowsFinite(attempt.K1New.detach()).logical_not());
                status.masked_fill_(slopeBad, NonFiniteCode);
            }

            if (fixedPlan is not null)
            {
                status.masked_fill_(attempt.Active.logical_and(attempt.RowFinite.logical_not()), NonFiniteCode);
            }

            attempt.Status = status;
        }
    }

    // The states at the output times inside the accepted steps: the scheme's dense output, or cubic Hermite.
    private void WriteOutputs(StepAttempt attempt)
    {
        if (ys is null)
        {
            return;
        }

        WriteOutputs(attempt.T, attempt.TEnd, attempt.Accept, attempt.Step.Y, Interpolant(attempt), attempt.OutputLimit);
    }

    // The state inside the attempted step at fractions θ [W] (state dtype): the scheme's dense output, or cubic Hermite.
    // A dense output with extra stages evaluates them on its first call in the step (so only in a step that holds an
    // output time or an event), once for all the step's outputs and events, for the whole work set as the step's own
    // stages are; the running rows count them as their own evaluations. They keep the autograd mode of this call, not
    // of the first interpolation's (an event's root is bracketed without a graph, its state and the outputs with one).
    private Func<Tensor, Tensor> Interpolant(StepAttempt attempt)
    {
        if (!scheme.HasDenseOutput)
        {
            return theta => Hermite.Interpolate(attempt.Y, attempt.Step.Y, attempt.K1, attempt.K1New, attempt.DtState, theta);
        }

        var recordGraph = is_grad_enabled();
        return theta =>
        {
            if (attempt.DenseStep is null && scheme.DenseStages > 0 && theta.eq(1.0).all().item<bool>())
            {
                // Every row asks for its step's end (an output on it, or no output in the step): that is the step's own
                // state, which the callers take at θ = 1 anyway, so the dense stages are not evaluated for it.
                return attempt.Step.Y;
            }

            if (attempt.DenseStep is null)
            {
                using (enable_grad(recordGraph))
                {
                    attempt.DenseStep = scheme.EvaluateDenseStages(Evaluate, attempt.TState, attempt.DtState, attempt.Y, attempt.Step);
                }

                attempt.StageCalls += scheme.DenseStages;
            }

            return scheme.Interpolate(attempt.Y, attempt.DenseStep, attempt.DtState, attempt.K1New, theta);
        };
    }

    // Terminal events: rows whose accepted step crosses zero of the event function stop at the crossing, located on
    // the step's interpolant by the Illinois method to the clock's precision; the earliest of several events wins.
    private void LocateEvents(StepAttempt attempt)
    {
        if (options.Event is not { } events)
        {
            return;
        }

        var accept = attempt.Accept;
        var before = work.EventValues!;
        var after = events.Evaluate(InStateDtype(attempt.TEnd), attempt.Step.Y, work.Index);
        Tensor crossing, fired;
        using (no_grad())
        {
            var badValues = accept.logical_and(after.isfinite().all(1).logical_not());
            attempt.Status = attempt.Status.masked_fill(badValues, NonFiniteCode);
            crossing = Crossing(before, after, events.Direction).logical_and_(accept.logical_and(badValues.logical_not()).unsqueeze(1));
            fired = crossing.any(1);
            attempt.EventValues = where(accept.unsqueeze(1), after, before);
        }

        if (!fired.any().item<bool>())
        {
            return;
        }

        var interpolate = Interpolant(attempt);
        Tensor thetaStar, which;
        using (no_grad())
        {
            thetaStar = ones(work.Count, dtype: ScalarType.Float64, device: device);
            which = full(work.Count, -1L, dtype: ScalarType.Int64, device: device);
            for (var column = 0; column < before.shape[1]; column++)
            {
                var rowsCrossing = crossing.select(1, column);
                if (!rowsCrossing.any().item<bool>())
                {
                    continue;
                }

                var theta = Bracket(attempt, events, column, rowsCrossing, before.select(1, column), after.select(1, column), interpolate);
                var earlier = rowsCrossing.logical_and(theta.lt(thetaStar).logical_or_(which.lt(0)));
                thetaStar = where(earlier, theta, thetaStar);
                which = where(earlier, full_like(which, column), which);
            }
        }

        var firedRows = PerRow(fired);
        var yEvent = where(PerRow(thetaStar.eq(1.0)), attempt.Step.Y, interpolate(InStateDtype(thetaStar)));
        Tensor tEvent;
        using (no_grad())
        {
            tEvent = where(thetaStar.eq(1.0), attempt.TEnd, attempt.T.add(attempt.Dt.mul(thetaStar)));
            attempt.TNew = where(fired, tEvent, attempt.TNew);
            attempt.OutputLimit = where(fired, tEvent, attempt.TEnd);
            attempt.Status = attempt.Status.masked_fill(fired, EventCode);
            work.EventIndex = where(fired, which, work.EventIndex!);
        }

        if (yEvent.requires_grad && is_grad_enabled())
        {
            (yEvent, tEvent) = DifferentiableEvent(events, yEvent, tEvent, which.clamp_min(0));
        }

        work.EventTime = where(fired, tEvent, work.EventTime!);
        attempt.YNew = where(firedRows, yEvent, attempt.YNew);
    }

    // The event's dependence on y0 and the parameters when backpropagating, by the implicit function theorem at
    // the root: g(t*, y(t*)) = 0 gives dt*/dθ = −(∂g/∂θ + ∂g/∂y·∂y/∂θ) / ġ with ġ = ∂g/∂t + ∂g/∂y·f(t*, y*). The
    // returned time and state have the root's values exactly and carry that gradient (the state moves with t* along
    // f).
    private (Tensor State, Tensor Time) DifferentiableEvent(EventFunction events, Tensor yEvent, Tensor tEvent, Tensor column)
    {
        var tState = InStateDtype(tEvent);
        Tensor slope, rate;
        using (no_grad())
        {
            slope = Evaluate(tState, yEvent.detach()).detach();
        }

        using (enable_grad())
        {
            var tProbe = tState.detach().requires_grad_(true);
            var yProbe = yEvent.detach().requires_grad_(true);
            var gProbe = events.EvaluateWithGraph(tProbe, yProbe, work.Index).gather(1, column.unsqueeze(1)).squeeze(1);
            var partials = autograd.grad([gProbe], [tProbe, yProbe], [ones_like(gProbe)], allow_unused: true);
            using (no_grad())
            {
                // An input g does not use has no gradient (TorchSharp returns null or an empty handle).
                var dgdt = partials[0] is { IsInvalid: false } gt ? gt : zeros_like(tProbe);
                var dgdy = partials[1] is { IsInvalid: false } gy ? gy : zeros_like(yProbe);
                rate = dgdt.add(dgdy.mul(slope).reshape(slope.shape[0], -1).sum(1));

                // Rows without an event (or a tangential crossing, whose time has no derivative) get no shift.
                rate = rate.masked_fill_(rate.eq(0), double.PositiveInfinity);
            }
        }

        var g = events.EvaluateWithGraph(tState, yEvent, work.Index).gather(1, column.unsqueeze(1)).squeeze(1);

        // (g − g.detach()) is exactly 0 with g's gradient: the time keeps the root's value.
        var shift = g.sub(g.detach()).div(rate).neg();
        var time = tEvent.add(shift.to_type(ScalarType.Float64));
        var state = yEvent.add(slope.mul(PerRow(shift)));
        return (state, time);
    }

    // Where each crossing row's event `column` changes sign inside the step: the Illinois variant of regula falsi on
    // θ ∈ [0, 1], keeping a bracket [a, b] with g(a) on the old side and g(b) on the new one, until b − a is below
    // the clock's resolution. Returns b per row, [W] float64 (1 for the other rows).
    private Tensor Bracket(StepAttempt attempt, EventFunction events, int column, Tensor rowsCrossing, Tensor gBefore, Tensor gAfter, Func<Tensor, Tensor> interpolate)
    {
        var a = zeros(work.Count, dtype: ScalarType.Float64, device: device);
        var b = ones(work.Count, dtype: ScalarType.Float64, device: device);
        var ga = gBefore.to_type(ScalarType.Float64);
        var gb = gAfter.to_type(ScalarType.Float64);
        var lastSide = zeros(work.Count, dtype: ScalarType.Int64, device: device);
        var span = attempt.Dt.abs();
        var resolution = attempt.T.abs().maximum(attempt.TEnd.abs()).mul(StepController.ClockSpacing);
        for (var iteration = 0; iteration < 200; iteration++)
        {
            var open = rowsCrossing.logical_and(b.sub(a).mul(span).gt(resolution));
            if (!open.any().item<bool>())
            {
                break;
            }

            var falsi = a.mul(gb).sub(b.mul(ga)).div(gb.sub(ga));
            var mid = a.add(b).mul(0.5);
            var theta = where(falsi.isfinite().logical_and(falsi.gt(a)).logical_and(falsi.lt(b)), falsi, mid);
            theta = where(open, theta, b);
            var state = interpolate(InStateDtype(theta));
            var time = attempt.T.add(attempt.Dt.mul(theta));
            var g = events.Evaluate(InStateDtype(time), state, work.Index).select(1, column).to_type(ScalarType.Float64);

            // θ lands on the old side: move a (and halve g(b) if a moved last time too); else move b.
            var oldSide = g.sign().eq(ga.sign()).logical_and_(g.ne(0)).logical_and_(open);
            var newSide = oldSide.logical_not().logical_and_(open);
            gb = where(oldSide.logical_and(lastSide.eq(-1)), gb.mul(0.5), gb);
            ga = where(newSide.logical_and(lastSide.eq(1)), ga.mul(0.5), ga);
            a = where(oldSide, theta, a);
            ga = where(oldSide, g, ga);
            b = where(newSide, theta, b);
            gb = where(newSide, g, gb);

            // An exact zero closes the bracket there.
            var exact = open.logical_and(g.eq(0));
            a = where(exact, theta, a);
            lastSide = where(oldSide, full_like(lastSide, -1), where(newSide, full_like(lastSide, 1), lastSide));
        }

        return where(rowsCrossing, b, ones_like(b));
    }

    // [W, E] bool: the events whose value changes sign, from a nonzero value, in the given direction.
    private static Tensor Crossing(Tensor before, Tensor after, EventDirection direction)
    {
        var rising = before.lt(0).logical_and_(after.ge(0));
        var falling = before.gt(0).logical_and_(after.le(0));
        return direction switch
        {
            EventDirection.Rising => rising,
            EventDirection.Falling => falling,
            _ => rising.logical_or_(falling),
        };
    }

    // The next step of every running row, and the rows whose step can shrink no further or is out of steps.
    private void Control(StepAttempt attempt)
    {
        if (fixedPlan is not null)
        {
            return;
        }

        using (no_grad())
        {
            var active = attempt.Active;
            var status = attempt.Status;
            var stillRunning = active.logical_and(status.eq(RunningCode));
            var outcome = new StepOutcome(
                attempt.ErrorNorm, attempt.Finite, attempt.RowFinite, attempt.Accept, stillRunning, attempt.Dt, work.Dt,
                attempt.TNew, work.T1, work.Direction, work.ErrorPrev1, work.ErrorPrev2);
            var decision = controller.Update(outcome);
            status = status.masked_fill(decision.ReachedDtMin, ReachedDtMinCode).masked_fill_(decision.NonFinite, NonFiniteCode);
            var outOfSteps = status.eq(RunningCode).logical_and_(work.Attempts.add(active.to_type(ScalarType.Int64)).ge(options.MaxSteps));
            attempt.Status = status.masked_fill_(outOfSteps, ReachedMaxStepsCode);
            work.Dt = where(active, decision.Dt, work.Dt);
            work.ErrorPrev1 = decision.Prev1;
            work.ErrorPrev2 = decision.Prev2;
        }
    }

    // The next generation of the work set's state and counters.
    private void Commit(StepAttempt attempt)
    {
        using (no_grad())
        {
            var active = attempt.Active.to_type(ScalarType.Int64);
            work.Attempts = work.Attempts.add(active);
            work.Accepted = work.Accepted.add(attempt.Accept.to_type(ScalarType.Int64));
            work.Rejected = work.Rejected.add(attempt.Active.logical_and(attempt.Accept.logical_not()).to_type(ScalarType.Int64));

            // Only the rows that were running this iteration count its evaluations as their own.
            var evaluations = work.Evaluations.add(active.mul(attempt.StageCalls));
            work.Evaluations = attempt.SlopeEvaluated is null ? evaluations : evaluations.add_(attempt.SlopeEvaluated.to_type(ScalarType.Int64));
        }

        work.Y = attempt.YNew;
        work.T = attempt.TNew;
        work.K1 = attempt.K1New;
        work.Status = attempt.Status;
        if (attempt.EventValues is not null)
        {
            work.EventValues = attempt.EventValues;
        }
    }

    private StepContext Context(StepAttempt attempt) =>
        new(work.Index, attempt.TState, attempt.DtState, attempt.Y, attempt.Step, attempt.Active, attempt.T, attempt.TEnd);

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
                work.Evaluations.alias().DetachFromDisposeScope(),
                work.EventTime?.alias().DetachFromDisposeScope(),
                work.EventIndex?.alias().DetachFromDisposeScope());
        }
        else
        {
            var leaving = keep.logical_not().nonzero().squeeze(1);
            results.Record(work.Index.index_select(0, leaving), leaving, work);
        }

        work.Select(kept);
    }

    // Writes the states at every output time that falls inside [tStart, tEnd] of an accepted step of the work set.
    // Without an interpolant (at the start) only the outputs at tStart are written, from yEnd.
    private void WriteOutputs(Tensor tStart, Tensor tEnd, Tensor accept, Tensor yEnd, Func<Tensor, Tensor>? interpolate, Tensor? limit = null)
    {
        var until = limit ?? tEnd;
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
                inStep = hasMore.logical_and_(accept).logical_and_(tau.sub(until).mul_(direction).le(0));
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

    // NaN and ±Inf propagate through amax, so this is one cheap reduction instead of a [B, D] isfinite.
    private static Tensor RowsFinite(Tensor x) => x.reshape(x.shape[0], -1).abs().amax([1]).isfinite();
}
