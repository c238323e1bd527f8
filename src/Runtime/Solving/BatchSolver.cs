using NeuralOde.Solving.Control;
using NeuralOde.Stepping;
using TorchSharp;
using static TorchSharp.torch;

namespace NeuralOde.Solving;

/// <summary>
/// The batched solver loop: every row keeps its own clock (float64), span, step size, controller history and
/// status; rows that finished or failed never change again, and once enough of them are done they leave the work
/// set, so that only running rows are stepped (their final values are recorded once, when they leave).
/// </summary>
/// <remarks>
/// The tensors carry what has a shape per row: the states, the slopes and the generated step (which keep their
/// autograd graph, so backpropagation through the solve works). Everything the loop decides per row (the clock, the
/// error norm, acceptance, statuses, the step-size control and the counters) runs in one pass over managed arrays
/// on the host: on the CPU it reads the step's tensors through their memory, so an iteration costs the step's own
/// operations plus a handful; on another device the error norm is reduced there and read back once. The dynamics
/// and the generated step see times and steps in the state's dtype; the clock itself never leaves float64, and a
/// row whose step no longer moves its clock ends with <see cref="SolverStatus.ReachedDtMin"/>.
/// </remarks>
internal sealed class BatchSolver : IDisposable
{
    private readonly RungeKuttaScheme scheme;
    private readonly Func<Tensor, Tensor, Tensor, Tensor> dynamics;
    private readonly SolverOptions options;
    private readonly int rows;
    private readonly long[] stateShape;
    private readonly long elementsPerRow;
    private readonly ScalarType dtype;
    private readonly Device device;
    private readonly bool onHost;
    private readonly FixedStepPlan? fixedPlan;
    private readonly int outputCount;
    private readonly Tolerances tolerances;
    private readonly WorkRows work;
    private readonly StepAttempt attempt;
    private readonly RowOutcome[] outcomes;
    private readonly RowDecision[] decisions;
    private readonly int[] positions;
    private readonly IStepObserver? observer;
    private readonly bool slopeCheckedByError;
    private readonly StepController controller;

    private Tensor? ys;            // [B, T, ...], in batch order
    private RowResults? results;   // rows that left the work set, in batch order; null until the first compaction
    private long calls;
    private long rowEvaluations;
    private long iterations;
    private long hostReads;
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
        var lastStage = tableau.Stages - 1;
        slopeCheckedByError = fixedPlan is null && scheme.IsFsal && tableau.BHat is { } bHat && bHat[lastStage].Value != tableau.B[lastStage].Value;
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
        if (y0.shape[0] > Array.MaxLength)
        {
            throw new ArgumentException($"A solve takes at most {Array.MaxLength} rows; got {y0.shape[0]}.", nameof(y0));
        }

        rows = (int)y0.shape[0];
        stateShape = y0.shape;
        elementsPerRow = y0.numel() / rows;
        dtype = y0.dtype;
        device = y0.device;
        onHost = device.type == DeviceType.CPU && !options.ControlOnDevice;
        outputCount = outputTimesRows is null ? 0 : (int)outputTimesRows.shape[1];
        var perRowTolerances = options.RelativeToleranceRows is not null || options.AbsoluteToleranceRows is not null;
        work = new WorkRows(rows, outputCount, perRowTolerances) { Count = rows };
        attempt = new StepAttempt(rows);
        outcomes = new RowOutcome[rows];
        decisions = new RowDecision[rows];
        positions = new int[rows];

        using var scope = NewDisposeScope();
        var t0 = HostMemory.Read<double>(t0Rows.to_type(ScalarType.Float64));
        var t1 = HostMemory.Read<double>(t1Rows.to_type(ScalarType.Float64));
        for (var i = 0; i < rows; i++)
        {
            work.Rows[i] = i;
            work.T[i] = work.T0[i] = t0[i];
            work.T1[i] = t1[i];
            work.Direction[i] = t1[i] < t0[i] ? -1 : 1;
            work.Status[i] = t0[i] == t1[i] ? SolverStatus.Success : SolverStatus.Running;
            work.Prev1[i] = work.Prev2[i] = 1;
        }

        var pureRelative = options.AbsoluteTolerance == 0;
        if (perRowTolerances)
        {
            FillRows(work.Rtol!, options.RelativeToleranceRows, options.RelativeTolerance);
            FillRows(work.Atol!, options.AbsoluteToleranceRows, options.AbsoluteTolerance);
            pureRelative = work.Atol!.AsSpan(0, rows).Contains(0.0);
        }

        tolerances = new Tolerances(options.RelativeTolerance, options.AbsoluteTolerance, work.Rtol, work.Atol, pureRelative);
        work.Index = arange(rows, dtype: ScalarType.Int64, device: device);
        work.Y = y0.alias();
        work.K1 = zeros_like(y0);
        if (options.Event is not null)
        {
            work.EventTime = full(rows, double.NaN, dtype: ScalarType.Float64, device: device);
            work.EventIndex = full(rows, -1L, dtype: ScalarType.Int64, device: device);
        }

        if (outputTimesRows is not null)
        {
            HostMemory.Read<double>(outputTimesRows.to_type(ScalarType.Float64)).CopyTo(work.OutputTimes);
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

        // Rows still running after the last iteration ran out of steps.
        for (var i = 0; i < work.Count; i++)
        {
            if (work.Status[i] == SolverStatus.Running)
            {
                work.Status[i] = SolverStatus.ReachedMaxSteps;
            }
        }

        results ??= new RowResults(rows);
        results.RecordAll(work);
        var (y, eventTime, eventIndex) = results.Release();
        using var scope = NewDisposeScope();
        var stats = new SolverStats(
            Detached(HostMemory.Write(results.Evaluations, device)),
            Detached(HostMemory.Write(results.Accepted, device)),
            Detached(HostMemory.Write(results.Rejected, device)),
            calls,
            rowEvaluations,
            iterations,
            hostReads);
        var codes = new long[rows];
        for (var i = 0; i < rows; i++)
        {
            codes[i] = (long)results.Status[i];
        }

        var ts = requestedTimes?.alias().DetachFromDisposeScope();
        var outputs = ys;
        ys = null;
        return new OdeSolution(
            y,
            Detached(HostMemory.Write(results.T, ScalarType.Float64, device)),
            ts,
            outputs,
            Detached(HostMemory.Write(codes, device)),
            stats,
            eventTime,
            eventIndex);
    }

    public void Dispose()
    {
        work.Dispose();
        ys?.Dispose();
        results?.Dispose();
    }

    private static Tensor Detached(Tensor tensor) => tensor.DetachFromDisposeScope();

    private static void FillRows(double[] target, Tensor? perRow, double all)
    {
        if (perRow is null)
        {
            Array.Fill(target, all);
            return;
        }

        using var scope = NewDisposeScope();
        HostMemory.Read<double>(perRow.to_type(ScalarType.Float64)).CopyTo(target);
    }

    // Non-finite initial states, the first slope, outputs at t0 and the initial step.
    private void Start()
    {
        using var scope = NewDisposeScope();
        var width = work.Count;
        var flags = attempt.RowFinite.AsSpan(0, width);
        RowsFinite(work.Y, flags);
        for (var i = 0; i < width; i++)
        {
            if (!flags[i])
            {
                work.Status[i] = SolverStatus.NonFinite;
            }
        }

        if (ys is not null)
        {
            // The outputs at t0 (every row, running or not): the initial state itself.
            var t = work.T.AsSpan(0, width);
            var everyRow = attempt.Accept.AsSpan(0, width);
            everyRow.Fill(true);
            WriteOutputs(t, t, t, everyRow, work.Y, null);
        }

        var running = attempt.Active.AsSpan(0, width);
        for (var i = 0; i < width; i++)
        {
            running[i] = work.Status[i] == SolverStatus.Running;
        }

        if (!running.Contains(true))
        {
            // Nothing to integrate (every span is empty or every state is non-finite): no evaluation at all.
            return;
        }

        var tState = ClockTensor(work.T, dtype);
        if (options.Event is { } events)
        {
            var values = events.Evaluate(tState, work.Y, work.Index);
            RowsFinite(values, flags);
            for (var i = 0; i < width; i++)
            {
                if (running[i] && !flags[i])
                {
                    work.Status[i] = SolverStatus.NonFinite;
                    running[i] = false;
                }
            }

            work.EventValues = values;
        }

        callsThisIteration = 0;
        var slope = Evaluate(tState, work.Y);
        work.K1 = slope;
        RowsFinite(slope, flags);
        for (var i = 0; i < width; i++)
        {
            if (running[i] && !flags[i])
            {
                work.Status[i] = SolverStatus.NonFinite;
            }
        }

        if (fixedPlan is null)
        {
            var runningRows = running.ToArray();
            for (var i = 0; i < width; i++)
            {
                runningRows[i] &= work.Status[i] == SolverStatus.Running;
            }

            var start = new InitialStepInput(
                work.Y,
                work.K1,
                ClockTensor(work.T, ScalarType.Float64),
                ClockTensor(work.T0, ScalarType.Float64),
                ClockTensor(work.T1, ScalarType.Float64),
                ClockTensor(work.Direction, ScalarType.Float64),
                ClockTensor(work.Rtol ?? Filled(width, options.RelativeTolerance), dtype),
                ClockTensor(work.Atol ?? Filled(width, options.AbsoluteTolerance), dtype),
                HostMemory.Write(runningRows, device));
            var dt = controller.InitialStep(options.InitialStep, start, (time, state) => Evaluate(InStateDtype(time), state));
            HostMemory.Read<double>(dt).CopyTo(work.Dt);
        }

        for (var i = 0; i < width; i++)
        {
            if (running[i])
            {
                work.Evaluations[i] += callsThisIteration;
            }
        }
    }

    private static double[] Filled(int width, double value)
    {
        var values = new double[width];
        Array.Fill(values, value);
        return values;
    }

    // One step of every running row of the work set, in named phases. Returns false when no row is running.
    private bool Iterate(long iteration)
    {
        using var scope = NewDisposeScope();
        if (!Compact())
        {
            return false;
        }

        iterations++;
        Clip(iteration);
        TakeStep();
        Assess();
        Accept();
        LocateEvents();
        WriteOutputs();
        Control();
        Commit();
        return true;
    }

    // Which rows of the work set step (false when none is running). Finished and failed rows leave the work set
    // first when the compaction mode says so, so that they cost nothing any more.
    private bool Compact()
    {
        var width = work.Count;
        var runningCount = 0;
        for (var i = 0; i < width; i++)
        {
            if (work.Status[i] == SolverStatus.Running)
            {
                runningCount++;
            }
        }

        if (runningCount == 0)
        {
            return false;
        }

        var shrink = runningCount < width && options.Compaction switch
        {
            CompactionMode.Always => true,
            CompactionMode.Never => false,
            _ => runningCount < options.CompactionThreshold * width,
        };

        if (shrink)
        {
            Retire();
        }

        attempt.Begin(work.Count);
        attempt.AllActive = runningCount == work.Count;
        for (var i = 0; i < work.Count; i++)
        {
            attempt.Active[i] = work.Status[i] == SolverStatus.Running;
        }

        return true;
    }

    // Takes the rows that are not running out of the work set, recording their final values in the results.
    private void Retire()
    {
        var width = work.Count;
        var keptCount = 0;
        var leavingCount = 0;
        var leaving = new int[width];
        for (var i = 0; i < width; i++)
        {
            if (work.Status[i] == SolverStatus.Running)
            {
                positions[keptCount++] = i;
            }
            else
            {
                leaving[leavingCount++] = i;
            }
        }

        results ??= new RowResults(rows);
        results.Record(work, leaving.AsSpan(0, leavingCount));
        work.Select(positions.AsSpan(0, keptCount));
    }

    // The step each row attempts: the planned one, clipped to land exactly on t1 (or the fixed grid's next step).
    private void Clip(long iteration)
    {
        var width = attempt.Width;
        if (fixedPlan is null)
        {
            // The step is the clock's own increment: t + dt rounds in float64, so the state is integrated over
            // exactly the distance the clock moves (which matters where |t| is large and dt small). A step whose
            // rounded end reaches t1 is the last one and lands on t1 exactly.
            for (var i = 0; i < width; i++)
            {
                var t = work.T[i];
                var next = t + work.Dt[i];
                var last = (next - work.T1[i]) * work.Direction[i] >= 0;
                var end = last ? work.T1[i] : next;
                attempt.Last[i] = last;
                attempt.TEnd[i] = end;
                attempt.Dt[i] = end - t;
            }
        }
        else
        {
            fixedPlan.Next(iteration, work, attempt);
        }

        attempt.Y = work.Y;
        attempt.K1 = work.K1;
        attempt.TState = ClockTensor(work.T, dtype);
        attempt.DtState = ClockTensor(attempt.Dt, dtype);
    }

    // The generated step of every row of the work set (running or not: masked rows are discarded later).
    private void TakeStep()
    {
        callsThisIteration = 0;
        observer?.BeginStep(work.Index, attempt.DtState, ActiveRows());
        attempt.Step = scheme.Step(Evaluate, attempt.TState, attempt.DtState, attempt.Y, attempt.K1);
        attempt.StageCalls = callsThisIteration;
    }

    // Finiteness, the error norm and which rows accept.
    private void Assess()
    {
        var width = attempt.Width;
        var active = attempt.Active.AsSpan(0, width);
        var rowFinite = attempt.RowFinite.AsSpan(0, width);
        var norms = attempt.ErrorNorm.AsSpan(0, width);
        var finite = attempt.Finite.AsSpan(0, width);
        var accept = attempt.Accept.AsSpan(0, width);
        if (fixedPlan is null)
        {
            ErrorNorms(norms, rowFinite);
            if (options.SharedStepSize)
            {
                (double, long)? extra = null;
                if (observer?.ErrorContribution(Context()) is var (squares, count))
                {
                    using (no_grad())
                    {
                        extra = (squares.detach().to_type(ScalarType.Float64).cpu().item<double>(), count);
                    }

                    hostReads++;
                }

                finite.Fill(StepController.SharedNorm(norms, rowFinite, active, elementsPerRow, extra));
            }
            else
            {
                rowFinite.CopyTo(finite);
            }

            for (var i = 0; i < width; i++)
            {
                accept[i] = active[i] && finite[i] && norms[i] <= 1.0;
            }
        }
        else
        {
            RowsFinite(attempt.Step.Y, rowFinite);
            norms.Clear();
            rowFinite.CopyTo(finite);
            for (var i = 0; i < width; i++)
            {
                accept[i] = active[i] && rowFinite[i];
            }
        }

        if (observer is not null)
        {
            observer.Accepted(Context(), AcceptRows());
        }
    }

    // Each row's error norm and whether its new state and norm are finite (one read of the step's tensors).
    private void ErrorNorms(Span<double> norms, Span<bool> rowFinite)
    {
        var step = attempt.Step;
        var active = attempt.Active.AsSpan(0, attempt.Width);
        hostReads++;
        if (onHost)
        {
            if (dtype == ScalarType.Float32)
            {
                RowNorms.ErrorNorms(HostMemory.Read<float>(step.Error!), HostMemory.Read<float>(attempt.Y), HostMemory.Read<float>(step.Y), tolerances, active, norms, rowFinite);
            }
            else
            {
                RowNorms.ErrorNorms(HostMemory.Read<double>(step.Error!), HostMemory.Read<double>(attempt.Y), HostMemory.Read<double>(step.Y), tolerances, active, norms, rowFinite);
            }

            return;
        }

        // On a device: reduce there, then read the norms and the finiteness flags back in one copy.
        using (no_grad())
        {
            var y1 = step.Y.detach();
            var rtol = PerRow(ClockTensor(work.Rtol ?? Filled(attempt.Width, options.RelativeTolerance), dtype));
            var atol = PerRow(ClockTensor(work.Atol ?? Filled(attempt.Width, options.AbsoluteTolerance), dtype));
            var norm = StepController.ErrorNorm(step.Error!.detach(), attempt.Y.detach(), y1, rtol, atol, tolerances.PureRelative).to_type(ScalarType.Float64);
            var ok = y1.reshape(y1.shape[0], -1).abs().amax([1]).isfinite().logical_and_(norm.isfinite());
            var both = HostMemory.Read<double>(stack([norm, ok.to_type(ScalarType.Float64)], 1));
            for (var i = 0; i < norms.Length; i++)
            {
                norms[i] = both[2 * i];
                rowFinite[i] = both[(2 * i) + 1] != 0;
            }
        }
    }

    // The next state, time and slope of every row, and the statuses the step itself decides.
    private void Accept()
    {
        // When every row of the work set accepted (the common case), selecting is a no-op: skip it. Rows that are
        // not running are never accepted, so they keep their state bit for bit.
        var width = attempt.Width;
        var step = attempt.Step;
        var accept = attempt.Accept.AsSpan(0, width);
        var done = attempt.Done.AsSpan(0, width);
        var allAccepted = !accept.Contains(false);
        var needSlopeAnywhere = false;
        var outputsOrEvents = ys is not null || options.Event is not null;
        for (var i = 0; i < width; i++)
        {
            done[i] = accept[i] && attempt.Last[i];
            attempt.TNew[i] = accept[i] ? attempt.TEnd[i] : work.T[i];

            // Outputs and events interpolate inside the last step too, which needs its end slope.
            var needSlope = accept[i] && (outputsOrEvents || !done[i]);
            attempt.SlopeEvaluated[i] = needSlope;
            needSlopeAnywhere |= needSlope;
        }

        attempt.AllAccepted = allAccepted;
        var acceptRows = allAccepted ? null : PerRow(AcceptRows());
        attempt.YNew = allAccepted ? step.Y : where(acceptRows!, step.Y, attempt.Y);

        // The slope at the new state: free for FSAL schemes, one evaluation otherwise (it is the next step's k1).
        var freshSlope = true;
        if (scheme.IsFsal && step.EndSlope is not null)
        {
            attempt.K1New = allAccepted ? step.EndSlope : where(acceptRows!, step.EndSlope, attempt.K1);
        }
        else if (needSlopeAnywhere)
        {
            var slope = Evaluate(ClockTensor(attempt.TEnd, dtype), step.Y);
            attempt.K1New = allAccepted ? slope : where(acceptRows!, slope, attempt.K1);

            // The rows that needed it count this evaluation as their own; the others were only carried along.
            attempt.HasSlopeEvaluation = true;
        }
        else
        {
            attempt.K1New = attempt.K1;
            freshSlope = false;
        }

        for (var i = 0; i < width; i++)
        {
            if (done[i])
            {
                work.Status[i] = SolverStatus.Success;
            }
        }

        // An accepted state whose slope is not finite cannot be continued. (FSAL schemes whose last stage enters
        // the error estimate already rejected such a step.)
        if (!slopeCheckedByError && freshSlope && ContinuesAnywhere(accept, done))
        {
            var flags = new bool[width];
            hostReads++;
            RowsFinite(attempt.K1New, flags);
            for (var i = 0; i < width; i++)
            {
                if (accept[i] && !done[i] && !flags[i])
                {
                    work.Status[i] = SolverStatus.NonFinite;
                }
            }
        }

        if (fixedPlan is not null)
        {
            for (var i = 0; i < width; i++)
            {
                if (attempt.Active[i] && !attempt.RowFinite[i])
                {
                    work.Status[i] = SolverStatus.NonFinite;
                }
            }
        }
    }

    private static bool ContinuesAnywhere(ReadOnlySpan<bool> accept, ReadOnlySpan<bool> done)
    {
        for (var i = 0; i < accept.Length; i++)
        {
            if (accept[i] && !done[i])
            {
                return true;
            }
        }

        return false;
    }

    // The states at the output times inside the accepted steps: the scheme's dense output, or cubic Hermite.
    private void WriteOutputs()
    {
        if (ys is null)
        {
            return;
        }

        var width = attempt.Width;
        var until = attempt.HasOutputLimit ? attempt.OutputLimit.AsSpan(0, width) : attempt.TEnd.AsSpan(0, width);
        WriteOutputs(work.T.AsSpan(0, width), attempt.TEnd.AsSpan(0, width), until, attempt.Accept.AsSpan(0, width), attempt.Step.Y, Interpolant());
    }

    // The state inside the attempted step at fractions θ [W] (state dtype): the scheme's dense output, or cubic Hermite.
    private Func<Tensor, Tensor> Interpolant()
    {
        var step = attempt.Step;
        var y = attempt.Y;
        var dt = attempt.DtState;
        var k1 = attempt.K1;
        var k1New = attempt.K1New;
        return theta => scheme.HasDenseOutput
            ? scheme.Interpolate(y, step, dt, k1New, theta)
            : Hermite.Interpolate(y, step.Y, k1, k1New, dt, theta);
    }

    // Terminal events: rows whose accepted step crosses zero of the event function stop at the crossing, located on
    // the step's interpolant by the Illinois method to the clock's precision; the earliest of several events wins.
    private void LocateEvents()
    {
        if (options.Event is not { } events)
        {
            return;
        }

        var width = attempt.Width;
        var accept = AcceptRows();
        var firedHost = new bool[width];
        var before = work.EventValues!;
        var after = events.Evaluate(ClockTensor(attempt.TEnd, dtype), attempt.Step.Y, work.Index);
        Tensor crossing, fired;
        using (no_grad())
        {
            var badValues = accept.logical_and(after.isfinite().all(1).logical_not());
            crossing = Crossing(before, after, events.Direction).logical_and_(accept.logical_and(badValues.logical_not()).unsqueeze(1));
            fired = crossing.any(1);
            attempt.EventValues = where(accept.unsqueeze(1), after, before);

            // One read: which rows have non-finite event values (bit 0) and which fire (bit 1).
            var flags = HostMemory.Read<long>(badValues.to_type(ScalarType.Int64).add_(fired.to_type(ScalarType.Int64), 2));
            hostReads++;
            var anyFired = false;
            for (var i = 0; i < width; i++)
            {
                if ((flags[i] & 1) != 0)
                {
                    work.Status[i] = SolverStatus.NonFinite;
                }

                    firedHost[i] = (flags[i] & 2) != 0;
                anyFired |= firedHost[i];
            }

            if (!anyFired)
            {
                return;
            }
        }

        var interpolate = Interpolant();
        var clockStart = ClockStart();
        var clockStep = ClockStep();
        var clockEnd = ClockEnd();
        Tensor thetaStar, which;
        using (no_grad())
        {
            thetaStar = ones(width, dtype: ScalarType.Float64, device: device);
            which = full(width, -1L, dtype: ScalarType.Int64, device: device);
            for (var column = 0; column < before.shape[1]; column++)
            {
                var rowsCrossing = crossing.select(1, column);
                if (!rowsCrossing.any().item<bool>())
                {
                    continue;
                }

                var theta = Bracket(clockStart, clockStep, clockEnd, events, column, rowsCrossing, before.select(1, column), after.select(1, column), interpolate);
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
            tEvent = where(thetaStar.eq(1.0), clockEnd, clockStart.add(clockStep.mul(thetaStar)));
            var times = HostMemory.Read<double>(tEvent);
            hostReads++;
            for (var i = 0; i < width; i++)
            {
                attempt.OutputLimit[i] = firedHost[i] ? times[i] : attempt.TEnd[i];
                if (firedHost[i])
                {
                    attempt.TNew[i] = times[i];
                    work.Status[i] = SolverStatus.Event;
                }
            }

            attempt.HasOutputLimit = true;
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
    private Tensor Bracket(Tensor clockStart, Tensor clockStep, Tensor clockEnd, EventFunction events, int column, Tensor rowsCrossing, Tensor gBefore, Tensor gAfter, Func<Tensor, Tensor> interpolate)
    {
        var a = zeros(work.Count, dtype: ScalarType.Float64, device: device);
        var b = ones(work.Count, dtype: ScalarType.Float64, device: device);
        var ga = gBefore.to_type(ScalarType.Float64);
        var gb = gAfter.to_type(ScalarType.Float64);
        var lastSide = zeros(work.Count, dtype: ScalarType.Int64, device: device);
        var span = clockStep.abs();
        var resolution = clockStart.abs().maximum(clockEnd.abs()).mul(StepController.ClockSpacing);
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
            var time = clockStart.add(clockStep.mul(theta));
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
    private void Control()
    {
        if (fixedPlan is not null)
        {
            return;
        }

        var width = attempt.Width;
        for (var i = 0; i < width; i++)
        {
            outcomes[i] = new RowOutcome(
                attempt.ErrorNorm[i],
                attempt.Finite[i],
                attempt.RowFinite[i],
                attempt.Accept[i],
                attempt.Active[i] && work.Status[i] == SolverStatus.Running,
                attempt.Dt[i],
                work.Dt[i],
                attempt.TNew[i],
                work.T1[i],
                work.Direction[i],
                work.Prev1[i],
                work.Prev2[i]);
        }

        controller.Update(outcomes.AsSpan(0, width), decisions.AsSpan(0, width));
        for (var i = 0; i < width; i++)
        {
            if (!attempt.Active[i])
            {
                continue;
            }

            var decision = decisions[i];
            if (decision.NonFinite)
            {
                work.Status[i] = SolverStatus.NonFinite;
            }
            else if (decision.ReachedDtMin)
            {
                work.Status[i] = SolverStatus.ReachedDtMin;
            }
            else if (work.Status[i] == SolverStatus.Running && work.Attempts[i] + 1 >= options.MaxSteps)
            {
                work.Status[i] = SolverStatus.ReachedMaxSteps;
            }

            work.Dt[i] = decision.Dt;
            work.Prev1[i] = decision.Prev1;
            work.Prev2[i] = decision.Prev2;
        }
    }

    // The next generation of the work set's state and counters.
    private void Commit()
    {
        for (var i = 0; i < attempt.Width; i++)
        {
            if (!attempt.Active[i])
            {
                continue;
            }

            work.Attempts[i]++;
            if (attempt.Accept[i])
            {
                work.Accepted[i]++;
            }
            else
            {
                work.Rejected[i]++;
            }

            // Only the rows that were running this iteration count its evaluations as their own.
            work.Evaluations[i] += attempt.StageCalls + (attempt.HasSlopeEvaluation && attempt.SlopeEvaluated[i] ? 1 : 0);
        }

        work.Y = attempt.YNew;
        work.K1 = attempt.K1New;
        (work.T, attempt.TNew) = (attempt.TNew, work.T);
        if (attempt.EventValues is not null)
        {
            work.EventValues = attempt.EventValues;
        }
    }

    private StepContext Context() =>
        new(work.Index, attempt.TState, attempt.DtState, attempt.Y, attempt.Step, ActiveRows(), ClockStart(), ClockEnd());

    private Tensor ActiveRows() => attempt.ActiveRows ??= HostMemory.Write(attempt.Active.AsSpan(0, attempt.Width), device);

    private Tensor AcceptRows() => attempt.AcceptRows ??= HostMemory.Write(attempt.Accept.AsSpan(0, attempt.Width), device);

    private Tensor ClockStart() => attempt.ClockStart ??= ClockTensor(work.T, ScalarType.Float64);

    private Tensor ClockEnd() => attempt.ClockEnd ??= ClockTensor(attempt.TEnd, ScalarType.Float64);

    private Tensor ClockStep() => attempt.ClockStep ??= ClockTensor(attempt.Dt, ScalarType.Float64);

    // The first Count values of a per-row array as a [W] tensor of the given dtype on the state's device.
    private Tensor ClockTensor(double[] values, ScalarType type) => HostMemory.Write(values.AsSpan(0, work.Count), type, device);

    // Writes the states at every output time that falls inside [tStart, until] of an accepted step of the work set.
    // Without an interpolant (at the start) only the outputs at tStart are written, from yEnd.
    private void WriteOutputs(ReadOnlySpan<double> tStart, ReadOnlySpan<double> tEnd, ReadOnlySpan<double> until, ReadOnlySpan<bool> accept, Tensor yEnd, Func<Tensor, Tensor>? interpolate)
    {
        var width = tStart.Length;
        var next = work.NextOutput!;
        var times = work.OutputTimes!;
        var theta = new double[width];
        var atEnd = new bool[width];
        var targets = new List<long>();
        var rowsOut = new List<long>();
        var slots = new List<long>();
        for (var guard = 0; guard < outputCount; guard++)
        {
            targets.Clear();
            rowsOut.Clear();
            slots.Clear();
            var interpolated = false;
            for (var i = 0; i < width; i++)
            {
                theta[i] = 1.0;
                atEnd[i] = true;
                if (!accept[i] || next[i] >= outputCount)
                {
                    continue;
                }

                var tau = times[((long)i * outputCount) + next[i]];
                if ((tau - until[i]) * work.Direction[i] > 0)
                {
                    continue;
                }

                var span = tEnd[i] - tStart[i];
                theta[i] = span == 0 ? 1.0 : Math.Clamp((tau - tStart[i]) / span, 0.0, 1.0);

                // At θ = 1 take the step's own end state, bit for bit.
                atEnd[i] = interpolate is null || theta[i] == 1.0;
                interpolated |= !atEnd[i];
                targets.Add(i);
                rowsOut.Add(work.Rows[i]);
                slots.Add(next[i]);
                next[i]++;
            }

            if (targets.Count == 0)
            {
                break;
            }

            using var scope = NewDisposeScope();
            var values = interpolated
                ? where(PerRow(HostMemory.Write(atEnd, device)), yEnd, interpolate!(HostMemory.Write(theta, dtype, device)))
                : yEnd;
            var picked = values.index_select(0, HostMemory.Write(targets.ToArray(), device));
            ys!.index_put_(picked, [HostMemory.Write(rowsOut.ToArray(), device), HostMemory.Write(slots.ToArray(), device)]);
        }
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

    // Whether each row of x [W, ...] is entirely finite (one read of its memory).
    private void RowsFinite(Tensor x, Span<bool> finite)
    {
        using var scope = NewDisposeScope();
        if (x.dtype == ScalarType.Float32)
        {
            RowNorms.RowsFinite(HostMemory.Read<float>(x), finite);
        }
        else
        {
            RowNorms.RowsFinite(HostMemory.Read<double>(x.to_type(ScalarType.Float64)), finite);
        }
    }
}
