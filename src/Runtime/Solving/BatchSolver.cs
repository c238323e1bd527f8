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
    private readonly int capacity;
    private readonly long[] stateShape;
    private readonly long elementsPerRow;
    private readonly ScalarType dtype;
    private readonly Device device;
    private readonly bool onHost;
    private readonly FixedStepPlan? fixedPlan;
    private readonly int outputCount;
    private readonly List<RowResults> inFlight = [];
    private Tolerances tolerances;
    private readonly WorkRows work;
    private readonly StepAttempt attempt;
    private readonly RowOutcome[] outcomes;
    private readonly RowDecision[] decisions;
    private readonly int[] positions;
    private readonly IStepObserver? observer;
    private readonly bool slopeCheckedByError;
    private readonly StepController controller;
    private readonly EventLocator? eventLocator;

    private Tensor? ys;            // [B, T, ...], in batch order
    private RowResults? results;   // the batch's results, rows recorded as they leave the work set (null in a stream)
    private RowResults? admitting; // the batch whose rows are being admitted
    private (Tensor Y0, double[] T0, double[] T1)? admission;
    private long calls;
    private long rowEvaluations;
    private long iterations;
    private long hostReads;
    private int callsThisIteration;

    // The step's stage function, made once: EvaluateStage when an observer is told each stage, else ReleasingStage.
    private readonly StageFunction stageEvaluation;
    private bool aliasChecked;
    private bool copySlopes;

    /// <summary>Creates the solver of one batch and admits all its rows.</summary>
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
        : this(scheme, dynamics, y0, options, fixedPlan, RowCount(y0), outputTimesRows is null ? 0 : (int)outputTimesRows.shape[1], observer)
    {
        rows = capacity;
        results = new RowResults(rows, firstRow: 0);
        using var scope = NewDisposeScope();
        var t0 = HostMemory.Read<double>(t0Rows.to_type(ScalarType.Float64));
        var t1 = HostMemory.Read<double>(t1Rows.to_type(ScalarType.Float64));
        if (tolerances.RelativeRows is not null)
        {
            FillRows(work.Rtol!, options.RelativeToleranceRows, options.RelativeTolerance);
            FillRows(work.Atol!, options.AbsoluteToleranceRows, options.AbsoluteTolerance);
            tolerances = tolerances with { PureRelative = work.Atol!.AsSpan(0, rows).Contains(0.0) };
        }

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

        admission = (y0, t0.ToArray(), t1.ToArray());
    }

    private BatchSolver(
        RungeKuttaScheme scheme,
        Func<Tensor, Tensor, Tensor, Tensor> dynamics,
        Tensor template,
        SolverOptions options,
        FixedStepPlan? fixedPlan,
        int capacity,
        int outputCount,
        IStepObserver? observer)
    {
        // Before the first solve's tensors: keep glibc's heap from growing over a long run of solves (see NativeHeap).
        NativeHeap.EnsureConfigured();
        this.observer = observer;
        stageEvaluation = observer is null ? ReleasingStage : EvaluateStage;
        var tableau = scheme.Tableau;
        var lastStage = tableau.Stages - 1;
        slopeCheckedByError = fixedPlan is null && scheme.IsFsal && tableau.BHat is { } bHat && bHat[lastStage].Value != tableau.B[lastStage].Value;
        this.scheme = scheme;
        this.dynamics = dynamics;
        this.options = options;
        this.fixedPlan = fixedPlan;
        this.capacity = capacity;
        this.outputCount = outputCount;
        controller = new StepController(
            options.Controller,
            scheme.Order,
            Math.Min(scheme.Order, scheme.EmbeddedOrder ?? scheme.Order),
            options.DtMin,
            options.DtMax,
            options.SharedStepSize);
        stateShape = template.shape;
        elementsPerRow = template.numel() / Math.Max(template.shape[0], 1);
        dtype = template.dtype;
        device = template.device;
        onHost = device.type == DeviceType.CPU && !options.ControlOnDevice;
        var perRowTolerances = options.RelativeToleranceRows is not null || options.AbsoluteToleranceRows is not null;
        work = new WorkRows(capacity, outputCount, perRowTolerances);
        attempt = new StepAttempt(capacity);
        outcomes = new RowOutcome[capacity];
        decisions = new RowDecision[capacity];
        positions = new int[capacity];
        tolerances = new Tolerances(options.RelativeTolerance, options.AbsoluteTolerance, work.Rtol, work.Atol, options.AbsoluteTolerance == 0);
        if (options.Event is { } events)
        {
            eventLocator = new EventLocator(events, (t, y) => Evaluate(t, y), dtype);
        }
    }

    /// <summary>The solver of a stream of batches: at most <paramref name="maxRowsInFlight"/> rows in its work set.</summary>
    /// <param name="scheme">The scheme.</param>
    /// <param name="dynamics">The rows-aware dynamics (rows are numbered across the whole stream).</param>
    /// <param name="template">A tensor with the states' dtype, device and trailing shape.</param>
    /// <param name="options">The validated options (no outputs, events or per-row tolerances).</param>
    /// <param name="fixedPlan">The fixed-step plan, or null.</param>
    /// <param name="maxRowsInFlight">The work set's capacity.</param>
    /// <returns>The solver.</returns>
    public static BatchSolver ForStream(RungeKuttaScheme scheme, Func<Tensor, Tensor, Tensor, Tensor> dynamics, Tensor template, SolverOptions options, FixedStepPlan? fixedPlan, int maxRowsInFlight) =>
        new(scheme, dynamics, template, options, fixedPlan, maxRowsInFlight, 0, null);

    public OdeSolution Run(Tensor? requestedTimes)
    {
        var (y0, t0, t1) = admission!.Value;
        admission = null;
        Admit(y0, 0, t0, t1, results!);
        var maxIterations = fixedPlan?.Iterations ?? options.MaxSteps;
        for (long iteration = 0; iteration < maxIterations; iteration++)
        {
            if (!Iterate())
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

        var final = results!;
        final.Record(work, AllPositions());
        var ts = requestedTimes?.alias().DetachFromDisposeScope();
        var outputs = ys;
        ys = null;
        return final.ToSolution(new LoopCounts(calls, rowEvaluations, iterations, hostReads), ts, outputs);
    }

    /// <summary>
    /// Solves the rows of a stream of batches over one span, at most the work set's capacity at a time: as rows
    /// finish, they leave and pending rows take their places, so the work set stays full while rows of different
    /// lengths finish at different times. Each batch's solution comes once all its rows are done, in order.
    /// </summary>
    /// <param name="batches">The initial states, <c>[Bi, ...]</c> each.</param>
    /// <param name="t0">The start of every row.</param>
    /// <param name="t1">The end of every row.</param>
    /// <returns>One solution per batch, in order.</returns>
    public IEnumerable<OdeSolution> Stream(IEnumerable<Tensor> batches, double t0, double t1)
    {
        var pending = new Queue<RowResults>();
        using var source = batches.GetEnumerator();
        Tensor? current = null;
        long nextRow = 0;
        long taken = 0;
        var exhausted = false;
        while (true)
        {
            // The solver's work runs without autograd; the caller's code between batches runs with its own setting.
            bool stepped;
            using (no_grad())
            {
                // Refill: when enough slots are free (or no row is running), finished rows leave and pending rows
                // take their slots.
                // Slots not holding a running row: empty ones and those of rows that finished.
                var running = RunningCount();
                var free = capacity - running;
                if (!exhausted && free > 0 && (free * 8L >= capacity || running == 0))
                {
                    Retire();
                    while (!exhausted && capacity - work.Count > 0)
                    {
                        if (current is null || taken == current.shape[0])
                        {
                            if (!source.MoveNext())
                            {
                                exhausted = true;
                                break;
                            }

                            current = Ode.CheckStreamBatch(source.Current, stateShape, dtype, device, nameof(batches));
                            taken = 0;
                            var batch = new RowResults((int)current.shape[0], nextRow);
                            nextRow += current.shape[0];
                            pending.Enqueue(batch);
                            inFlight.Add(batch);
                        }

                        var count = Math.Min(capacity - work.Count, current.shape[0] - taken);
                        using var scope = NewDisposeScope();
                        var starts = new double[count];
                        var ends = new double[count];
                        Array.Fill(starts, t0);
                        Array.Fill(ends, t1);
                        var owner = pending.Last();
                        Admit(current.narrow(0, taken, count), owner.FirstRow + taken, starts, ends, owner);
                        taken += count;
                    }
                }

                stepped = Iterate();
                if (!stepped)
                {
                    // No row is running: every row in the work set is done.
                    Retire();
                }
            }

            while (pending.Count > 0 && pending.Peek().Complete)
            {
                var done = pending.Dequeue();
                inFlight.Remove(done);
                yield return done.ToSolution(done.Totals, null, null);
            }

            if (!stepped && exhausted && work.Count == 0)
            {
                yield break;
            }
        }
    }

    public void Dispose()
    {
        attempt.DisposeDenseStages();
        work.Dispose();
        ys?.Dispose();
        results?.Dispose();
        foreach (var chunk in inFlight)
        {
            chunk.Dispose();
        }

        NativeHeap.AfterSolve();
    }

    private static int RowCount(Tensor y0) =>
        y0.shape[0] <= Array.MaxLength ? (int)y0.shape[0] : throw new ArgumentException($"A solve takes at most {Array.MaxLength} rows; got {y0.shape[0]}.", nameof(y0));

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

    private int[] AllPositions()
    {
        var all = new int[work.Count];
        for (var i = 0; i < all.Length; i++)
        {
            all[i] = i;
        }

        return all;
    }

    private int RunningCount()
    {
        var running = 0;
        for (var i = 0; i < work.Count; i++)
        {
            running += work.Status[i] == SolverStatus.Running ? 1 : 0;
        }

        return running;
    }

    // Appends rows to the work set: their clocks and counters, their states, and what a row needs before its first
    // step (non-finite initial states, the outputs at t0, the event values, the first slope and the first step),
    // computed for these rows alone.
    private void Admit(Tensor y0, long firstRow, ReadOnlySpan<double> t0, ReadOnlySpan<double> t1, RowResults owner)
    {
        using var scope = NewDisposeScope();
        var start = work.Count;
        var first = start == 0;
        if (first)
        {
            // The first batch's work state is the very tensor its first slope is evaluated at (observers may key what
            // they kept of an evaluation by the state it was made at: the adjoint does).
            y0 = y0.alias();
        }

        var count = (int)y0.shape[0];
        var end = start + count;
        for (var j = 0; j < count; j++)
        {
            var i = start + j;
            work.Rows[i] = firstRow + j;
            work.T[i] = work.T0[i] = t0[j];
            work.T1[i] = t1[j];
            work.Direction[i] = t1[j] < t0[j] ? -1 : 1;
            work.Status[i] = t0[j] == t1[j] ? SolverStatus.Success : SolverStatus.Running;
            work.Prev1[i] = work.Prev2[i] = 1;
            work.Attempts[i] = work.Accepted[i] = work.Rejected[i] = work.Evaluations[i] = 0;
            work.Dt[i] = 0;
        }

        work.Count = end;
        owner.InWork += count;
        admitting = owner;
        var index = arange(firstRow, firstRow + count, dtype: ScalarType.Int64, device: device);
        var status = work.Status.AsSpan(start, count);
        var flags = new bool[count];
        RowsFinite(y0, flags);
        for (var j = 0; j < count; j++)
        {
            if (!flags[j])
            {
                status[j] = SolverStatus.NonFinite;
            }
        }

        if (ys is not null)
        {
            // The outputs at t0 (every row, running or not): the initial state itself.
            var t = work.T.AsSpan(start, count);
            var everyRow = new bool[count];
            Array.Fill(everyRow, true);
            WriteOutputs(start, t, t, t, everyRow, y0, null);
        }

        var running = new bool[count];
        for (var j = 0; j < count; j++)
        {
            running[j] = status[j] == SolverStatus.Running;
        }

        var tState = HostMemory.Write(work.T.AsSpan(start, count), dtype, device);
        Tensor? values = null;
        Tensor slope;
        if (running.AsSpan().Contains(true))
        {
            if (options.Event is { } events)
            {
                values = events.Evaluate(tState, y0, index);
                RowsFinite(values, flags);
                for (var j = 0; j < count; j++)
                {
                    if (running[j] && !flags[j])
                    {
                        status[j] = SolverStatus.NonFinite;
                        running[j] = false;
                    }
                }
            }

            callsThisIteration = 0;
            slope = Evaluate(tState, y0, index);
            RowsFinite(slope, flags);
            for (var j = 0; j < count; j++)
            {
                if (running[j] && !flags[j])
                {
                    status[j] = SolverStatus.NonFinite;
                }
            }

            if (fixedPlan is null)
            {
                var runningRows = new bool[count];
                for (var j = 0; j < count; j++)
                {
                    runningRows[j] = running[j] && status[j] == SolverStatus.Running;
                }

                var rtolRows = work.Rtol is { } r ? r.AsSpan(start, count) : Filled(count, options.RelativeTolerance);
                var atolRows = work.Atol is { } a ? a.AsSpan(start, count) : Filled(count, options.AbsoluteTolerance);
                Tensor Probe(Tensor time, Tensor state) => Evaluate(InStateDtype(time), state, index);
                var rowsAtStart = new InitialStepRows(
                    work.T.AsSpan(start, count),
                    work.T0.AsSpan(start, count),
                    work.T1.AsSpan(start, count),
                    work.Direction.AsSpan(start, count),
                    rtolRows,
                    atolRows,
                    runningRows);
                if (TrySeeds(firstRow, runningRows, out var seeds))
                {
                    controller.SeededInitialStep(seeds, rowsAtStart, work.Dt.AsSpan(start, count));
                }
                else if (onHost)
                {
                    var steps = work.Dt.AsSpan(start, count);
                    if (dtype == ScalarType.Float32)
                    {
                        controller.InitialStep<float>(options.InitialStep, y0, slope, rowsAtStart, steps, Probe);
                    }
                    else
                    {
                        controller.InitialStep<double>(options.InitialStep, y0, slope, rowsAtStart, steps, Probe);
                    }
                }
                else
                {
                    var input = new InitialStepInput(
                        y0,
                        slope,
                        HostMemory.Write(work.T.AsSpan(start, count), ScalarType.Float64, device),
                        HostMemory.Write(work.T0.AsSpan(start, count), ScalarType.Float64, device),
                        HostMemory.Write(work.T1.AsSpan(start, count), ScalarType.Float64, device),
                        HostMemory.Write(work.Direction.AsSpan(start, count), ScalarType.Float64, device),
                        HostMemory.Write(rtolRows, dtype, device),
                        HostMemory.Write(atolRows, dtype, device),
                        HostMemory.Write(runningRows, device));
                    var dt = controller.InitialStep(options.InitialStep, input, Probe);
                    HostMemory.Read<double>(dt).CopyTo(work.Dt.AsSpan(start, count));
                }
            }

            for (var j = 0; j < count; j++)
            {
                if (running[j])
                {
                    work.Evaluations[start + j] += callsThisIteration;
                }
            }
        }
        else
        {
            // Nothing to integrate (every span is empty or every state is non-finite): no evaluation at all.
            slope = zeros_like(y0);
        }

        admitting = null;
        work.Index = first ? index : cat([work.Index, index]);
        work.Y = first ? y0 : cat([work.Y, y0]);
        work.K1 = first ? slope : cat([work.K1, slope]);
        if (values is not null)
        {
            work.EventValues = first || work.EventValues is null ? values : cat([work.EventValues, values]);
        }
    }

    // The given first steps of the admitted rows from global row `firstRow` on, when every running one is finite and
    // positive; else false (the rows' first steps are estimated).
    private bool TrySeeds(long firstRow, ReadOnlySpan<bool> running, out ReadOnlySpan<double> admitted)
    {
        admitted = default;
        if (options.InitialSteps is not { } seeds)
        {
            return false;
        }

        if (firstRow + running.Length > seeds.Length)
        {
            throw new InvalidOperationException($"SolverOptions.InitialSteps holds {seeds.Length} rows; the solve has at least {firstRow + running.Length}.");
        }

        var given = seeds.AsSpan((int)firstRow, running.Length);
        for (var j = 0; j < given.Length; j++)
        {
            if (running[j] && !(double.IsFinite(given[j]) && given[j] != 0))
            {
                return false;
            }
        }

        admitted = given;
        return true;
    }

    private static double[] Filled(int width, double value)
    {
        var values = new double[width];
        Array.Fill(values, value);
        return values;
    }

    // One step of every running row of the work set, in named phases. Returns false when no row is running.
    private bool Iterate()
    {
        using var scope = NewDisposeScope();
        if (!Compact())
        {
            return false;
        }

        var readsBefore = hostReads;
        iterations++;
        Clip();
        TakeStep();
        Assess();
        Accept();
        LocateEvents();
        WriteOutputs();
        Control();
        Commit();
        foreach (var batch in inFlight)
        {
            if (batch.InWork > 0)
            {
                batch.Totals = batch.Totals with { Iterations = batch.Totals.Iterations + 1, HostReads = batch.Totals.HostReads + hostReads - readsBefore };
            }
        }

        return true;
    }

    // Which rows of the work set step (false when none is running). Finished and failed rows leave the work set
    // first when the compaction mode says so, so that they cost nothing any more.
    private bool Compact()
    {
        var width = work.Count;
        var runningCount = RunningCount();
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
        if (width == 0)
        {
            return;
        }

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

        // Rows are in the order they were admitted, so each batch's leaving rows form one run.
        var run = 0;
        while (run < leavingCount)
        {
            var owner = OwnerOf(work.Rows[leaving[run]]);
            var end = run;
            while (end < leavingCount && work.Rows[leaving[end]] < owner.FirstRow + owner.Rows)
            {
                end++;
            }

            owner.Record(work, leaving.AsSpan(run, end - run));
            run = end;
        }

        work.Select(positions.AsSpan(0, keptCount));
    }

    // The results a row of the solver belongs to.
    private RowResults OwnerOf(long row)
    {
        if (results is not null)
        {
            return results;
        }

        foreach (var batch in inFlight)
        {
            if (row >= batch.FirstRow && row < batch.FirstRow + batch.Rows)
            {
                return batch;
            }
        }

        throw new InvalidOperationException($"Row {row} belongs to no batch in flight.");
    }

    // The step each row attempts: the planned one, clipped to land exactly on t1 (or the fixed grid's next step).
    private void Clip()
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
            fixedPlan.Next(work, attempt);
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
        observer?.Starting(Start());
        attempt.Step = scheme.Step(stageEvaluation, attempt.TState, attempt.DtState, attempt.Y, attempt.K1);
        attempt.StageCalls = callsThisIteration;
        if (observer is null)
        {
            // Only an observer reads the stage states: ReleasingStage disposed each after its evaluation, and this
            // releases any other the step holds (never its input or new state).
            attempt.Step.ReleaseStageStates();
        }
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

        // An end slope that comes with the step (FSAL) and that its error does not check is read in the same pass.
        var endSlope = !slopeCheckedByError && scheme.IsFsal ? attempt.Step.EndSlope : null;
        var slopeFinite = attempt.SlopeFinite.AsSpan(0, width);
        attempt.HasSlopeFinite = endSlope is not null;
        if (fixedPlan is null)
        {
            ErrorNorms(norms, rowFinite, endSlope, slopeFinite);
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
            ReadFinite(attempt.Step.Y, rowFinite, endSlope, slopeFinite);
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

        attempt.Step.ReleaseStageStates();
    }

    // Each row's error norm and whether its new state and norm are finite (one read of the step's tensors), and
    // whether each row of `slope` is finite when it is given.
    private void ErrorNorms(Span<double> norms, Span<bool> rowFinite, Tensor? slope, Span<bool> slopeFinite)
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

            if (slope is not null)
            {
                RowsFinite(slope, slopeFinite);
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
            var ok = FiniteRows(y1).logical_and_(norm.isfinite());
            var columns = slope is null ? [norm, ok.to_type(ScalarType.Float64)] : new[] { norm, ok.to_type(ScalarType.Float64), FiniteRows(slope.detach()).to_type(ScalarType.Float64) };
            var all = HostMemory.Read<double>(stack(columns, 1));
            for (var i = 0; i < norms.Length; i++)
            {
                norms[i] = all[columns.Length * i];
                rowFinite[i] = all[(columns.Length * i) + 1] != 0;
                if (slope is not null)
                {
                    slopeFinite[i] = all[(columns.Length * i) + 2] != 0;
                }
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

        // When no row accepted, the state and slope stay the very same tensors (an observer may have kept what it
        // learnt at them: the adjoint keeps the first stage's evaluation for the retried step).
        var noneAccepted = !accept.Contains(true);
        var acceptRows = allAccepted || noneAccepted ? null : PerRow(AcceptRows());
        attempt.YNew = allAccepted ? step.Y : noneAccepted ? attempt.Y : where(acceptRows!, step.Y, attempt.Y);

        // The slope at the new state: free for FSAL schemes, one evaluation otherwise (it is the next step's k1).
        var freshSlope = true;
        if (noneAccepted)
        {
            attempt.K1New = attempt.K1;
            freshSlope = false;
        }
        else if (scheme.IsFsal && step.EndSlope is not null)
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
            // Accepted rows carry the step's end slope, whose finiteness the error norms' read may have brought.
            var flags = attempt.SlopeFinite.AsSpan(0, width);
            if (!attempt.HasSlopeFinite)
            {
                ReadFinite(attempt.K1New, flags, null, default);
            }

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
        WriteOutputs(0, work.T.AsSpan(0, width), attempt.TEnd.AsSpan(0, width), until, attempt.Accept.AsSpan(0, width), attempt.Step.Y, HostInterpolant());
    }

    // The state inside the attempted step at fractions θ [W] (state dtype): the scheme's dense output, or cubic Hermite.
    // A dense output with extra stages evaluates them on its first call in the step (so only in a step that holds an
    // output time inside it, or an event), once for all the step's outputs and events, for the whole work set as the
    // step's own stages are; the running rows count them as their own evaluations. They keep the autograd mode of this
    // call, not of the first interpolation's (an event's root is bracketed without a graph, its state and the outputs
    // with one), and live until the next iteration (the attempt owns them), not in the scope a caller opens per output.
    private Func<Tensor, Tensor> Interpolant()
    {
        var step = attempt.Step;
        var y = attempt.Y;
        var dt = attempt.DtState;
        var k1 = attempt.K1;
        var k1New = attempt.K1New;
        if (!scheme.HasDenseOutput)
        {
            return theta => Hermite.Interpolate(y, step.Y, k1, k1New, dt, theta);
        }

        if (scheme.DenseStages == 0)
        {
            return theta => scheme.Interpolate(y, step, dt, k1New, theta);
        }

        var recordGraph = is_grad_enabled();
        return theta => scheme.Interpolate(y, DenseStep(recordGraph), dt, k1New, theta);
    }

    // The same interpolant at fractions θ [W] held on the host: the scheme's dense output with its weights bᵢ(θ)
    // evaluated on the host (HostInterpolation), or cubic Hermite.
    private Func<double[], Tensor> HostInterpolant()
    {
        if (!scheme.HasDenseOutput)
        {
            var hermite = Interpolant();
            return theta => hermite(HostMemory.Write(theta, dtype, device));
        }

        var y = attempt.Y;
        var k1New = attempt.K1New;
        var width = attempt.Width;
        var recordGraph = is_grad_enabled();
        return theta => HostInterpolation.Interpolate(scheme, y, DenseStep(recordGraph), attempt.Dt.AsSpan(0, width), k1New, theta);
    }

    // The attempted step with the dense output's extra stages, evaluated on the first call in the step (the step
    // itself when the scheme has none), with or without a graph as the interpolation that needs them.
    private RungeKuttaStep DenseStep(bool recordGraph)
    {
        if (scheme.DenseStages == 0)
        {
            return attempt.Step;
        }

        if (attempt.DenseStep is null)
        {
            using (enable_grad(recordGraph))
            {
                attempt.SetDenseStep(scheme.EvaluateDenseStages(Evaluate, attempt.TState, attempt.DtState, attempt.Y, attempt.Step), scheme.Stages);
            }

            attempt.StageCalls += scheme.DenseStages;
        }

        return attempt.DenseStep!;
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
            crossing = EventLocator.Crossing(before, after, events.Direction).logical_and_(accept.logical_and(badValues.logical_not()).unsqueeze(1));
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

                var theta = eventLocator!.Bracket(clockStart, clockStep, clockEnd, work.Index, column, rowsCrossing, before.select(1, column), after.select(1, column), interpolate);
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
            (yEvent, tEvent) = eventLocator!.WithGradient(yEvent, tEvent, work.Index, which.clamp_min(0));
        }

        work.EventTime = where(fired, tEvent, work.EventTime!);
        attempt.YNew = where(firedRows, yEvent, attempt.YNew);
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

    private StepStart Start()
    {
        var smallest = double.PositiveInfinity;
        var largest = 0.0;
        for (var i = 0; i < attempt.Width; i++)
        {
            if (attempt.Active[i])
            {
                var size = Math.Abs(attempt.Dt[i]);
                smallest = Math.Min(smallest, size);
                largest = Math.Max(largest, size);
            }
        }

        return new(attempt.DtState, ActiveRows(), smallest, largest);
    }

    private Tensor ActiveRows() => attempt.ActiveRows ??= HostMemory.Write(attempt.Active.AsSpan(0, attempt.Width), device);

    private Tensor AcceptRows() => attempt.AcceptRows ??= HostMemory.Write(attempt.Accept.AsSpan(0, attempt.Width), device);

    private Tensor ClockStart() => attempt.ClockStart ??= ClockTensor(work.T, ScalarType.Float64);

    private Tensor ClockEnd() => attempt.ClockEnd ??= ClockTensor(attempt.TEnd, ScalarType.Float64);

    private Tensor ClockStep() => attempt.ClockStep ??= ClockTensor(attempt.Dt, ScalarType.Float64);

    // The first Count values of a per-row array as a [W] tensor of the given dtype on the state's device.
    private Tensor ClockTensor(double[] values, ScalarType type) => HostMemory.Write(values.AsSpan(0, work.Count), type, device);

    // Writes the states at every output time that falls inside [tStart, until] of an accepted step, for the rows
    // from position `first` of the work set on (row j of the spans and of yEnd is the work set's row first + j).
    // Without an interpolant (at admission) only the outputs at tStart are written, from yEnd.
    private void WriteOutputs(int first, ReadOnlySpan<double> tStart, ReadOnlySpan<double> tEnd, ReadOnlySpan<double> until, ReadOnlySpan<bool> accept, Tensor yEnd, Func<double[], Tensor>? interpolate)
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
            var targetAtEnd = false;
            for (var j = 0; j < width; j++)
            {
                var i = first + j;
                theta[j] = 1.0;
                atEnd[j] = true;
                if (!accept[j] || next[i] >= outputCount)
                {
                    continue;
                }

                var tau = times[((long)i * outputCount) + next[i]];
                if ((tau - until[j]) * work.Direction[i] > 0)
                {
                    continue;
                }

                var span = tEnd[j] - tStart[j];
                theta[j] = span == 0 ? 1.0 : Math.Clamp((tau - tStart[j]) / span, 0.0, 1.0);

                // At θ = 1 take the step's own end state, bit for bit.
                atEnd[j] = interpolate is null || theta[j] == 1.0;
                interpolated |= !atEnd[j];
                targetAtEnd |= atEnd[j];
                targets.Add(j);
                rowsOut.Add(work.Rows[i]);
                slots.Add(next[i]);
                next[i]++;
            }

            if (targets.Count == 0)
            {
                break;
            }

            using var scope = NewDisposeScope();
            var values = yEnd;
            if (interpolated)
            {
                var inside = interpolate!(theta);
                values = targetAtEnd ? where(PerRow(HostMemory.Write(atEnd, device)), yEnd, inside) : inside;
            }

            // Every row of the work set takes an output (a shared grid, one time per step): no gather.
            var picked = targets.Count == width ? values : values.index_select(0, HostMemory.Write(targets.ToArray(), device));
            ys!.index_put_(picked, [HostMemory.Write(rowsOut.ToArray(), device), HostMemory.Write(slots.ToArray(), device)]);
        }
    }

    // The dynamics at the rows of the work set.
    private Tensor Evaluate(Tensor time, Tensor state) => Evaluate(time, state, work.Index);

    // A step's own evaluation when nothing reads the stage states: a stage's state is released once its slope is
    // evaluated (the step only passes it to the right-hand side), so that the next stage's state and the network's
    // buffers can take its memory while it is still in the cache. Not the step's input, nor a FSAL scheme's last
    // stage state, which is the step's new state.
    private Tensor ReleasingStage(Tensor time, Tensor state)
    {
        var stage = callsThisIteration + 1;
        var slope = Evaluate(time, state);
        if (!ReferenceEquals(state, attempt.Y) && !(scheme.IsFsal && stage == scheme.Stages - 1))
        {
            state.Dispose();
        }

        return slope;
    }

    // A step's own evaluation, announced to the observer with its stage (the step's calls so far plus one).
    private Tensor EvaluateStage(Tensor time, Tensor state)
    {
        observer!.Evaluating(callsThisIteration + 1);
        return Evaluate(time, state);
    }

    private Tensor Evaluate(Tensor time, Tensor state, Tensor rowsOfState)
    {
        calls++;
        callsThisIteration++;
        var stateRows = state.size(0);
        rowEvaluations += stateRows;
        Charge(stateRows);
        using var scope = NewDisposeScope();
        var slope = dynamics(time, state, rowsOfState)
            ?? throw new InvalidOperationException("The dynamics returned null; dy/dt must be a tensor of the state's shape.");
        if (slope.IsInvalid)
        {
            throw new InvalidOperationException("The dynamics returned a disposed tensor; dy/dt must be a live tensor of the state's shape.");
        }

        if (slope.dtype != state.dtype || slope.device_type != state.device_type || !SameShape(slope, state))
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

    // A stream's batches each count the calls their rows took part in (the rows being admitted, or those in work).
    private void Charge(long rowsEvaluated)
    {
        if (admitting is { } batch && inFlight.Count > 0)
        {
            batch.Totals = batch.Totals with { Calls = batch.Totals.Calls + 1, RowEvaluations = batch.Totals.RowEvaluations + rowsEvaluated };
            return;
        }

        foreach (var inWork in inFlight)
        {
            if (inWork.InWork > 0)
            {
                inWork.Totals = inWork.Totals with { Calls = inWork.Totals.Calls + 1, RowEvaluations = inWork.Totals.RowEvaluations + inWork.InWork };
            }
        }
    }

    // a.shape == b.shape, by one native call per dimension (reading a tensor's whole shape allocates an array through a
    // callback from native code, which costs more than the check itself on small tensors).
    private static bool SameShape(Tensor a, Tensor b)
    {
        var rank = b.dim();
        if (a.dim() != rank)
        {
            return false;
        }

        for (var d = 0; d < rank; d++)
        {
            if (a.size(d) != b.size(d))
            {
                return false;
            }
        }

        return true;
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

    // Whether each row of a (and of b when given) is entirely finite: one read.
    private void ReadFinite(Tensor a, Span<bool> aFinite, Tensor? b, Span<bool> bFinite)
    {
        hostReads++;
        if (onHost)
        {
            RowsFinite(a, aFinite);
            if (b is not null)
            {
                RowsFinite(b, bFinite);
            }

            return;
        }

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var flags = b is null ? FiniteRows(a.detach()).unsqueeze(1) : stack([FiniteRows(a.detach()), FiniteRows(b.detach())], 1);
        var values = HostMemory.Read<bool>(flags);
        for (var i = 0; i < aFinite.Length; i++)
        {
            aFinite[i] = values[(int)flags.shape[1] * i];
            if (b is not null)
            {
                bFinite[i] = values[(2 * i) + 1];
            }
        }
    }

    // [W] bool on the tensor's device: whether each row is entirely finite (NaN and ±Inf propagate through amax).
    private static Tensor FiniteRows(Tensor x) => x.reshape(x.shape[0], -1).abs().amax([1]).isfinite();

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
