using NeuralOde.Solving;
using NeuralOde.Stepping;
using TorchSharp;
using static TorchSharp.torch;

namespace NeuralOde.Modules;

/// <summary>
/// Checkpointed backpropagation as a custom autograd function. Forward: an ordinary solve without a graph that
/// records, per accepted step, only what replays it: the rows that accepted, their start time, step and start
/// state. Backward: the steps are walked in reverse, each recomputed with autograd from its start state and
/// back-propagated through, so the gradient is that of the discrete solve (<see cref="GradientMode.Backprop"/>'s)
/// with memory of one state per accepted step instead of every stage's activations.
/// </summary>
internal sealed class OdeCheckpointFunction : autograd.SingleTensorFunction<OdeCheckpointFunction>
{
    public override string Name => nameof(OdeCheckpointFunction);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var problem = (CheckpointProblem)vars[0];
        var y0 = (Tensor)vars[1];
        var plan = problem.Plan;
        var knots = plan.Knots;
        var outputs = plan.FinalOnly ? null : new OutputTimes(knots, plan.FirstOutput);
        var recorder = new StepRecorder(y0, problem.Every, outputs);
        using (no_grad())
        {
            using var t0 = tensor(knots.Column(0), dtype: ScalarType.Float64, device: y0.device);
            using var t1 = tensor(knots.Column(knots.Count - 1), dtype: ScalarType.Float64, device: y0.device);
            using var times = outputs?.ToTensor(y0.device);
            var options = problem.Options with { OutputTimes = times };
            using var solution = Ode.Solve(problem.Scheme, (t, y, _) => problem.Dynamics.call(t, y), y0, t0, t1, options, recorder);
            problem.OnForward(SolveSummary.From(solution.Stats));
            try
            {
                OdeBlock.CheckStatus(solution, problem.ThrowOnFailure);
            }
            catch
            {
                recorder.Dispose();
                throw;
            }

            ctx.save_data("problem", problem);
            ctx.save_data("steps", recorder);
            return (plan.FinalOnly ? solution.Y : solution.Ys!).detach().clone();
        }
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
    {
        var problem = (CheckpointProblem)ctx.get_data("problem");
        using var recorder = (StepRecorder)ctx.get_data("steps");
        var parameters = problem.Dynamics.parameters().Where(static p => p.requires_grad).ToArray();
        var gradients = parameters.Select(static p => zeros_like(p)).ToArray();
        // The cotangent of each row's current state, walking back; outputs add theirs at the steps that hold them.
        var outputs = recorder.Outputs;
        var cotangent = outputs is null ? gradOutput.detach().clone() : zeros_like(gradOutput.select(1, 0));
        long calls = 0;
        long rowEvaluations = 0;
        Tensor Stage(Tensor t, Tensor y)
        {
            calls++;
            rowEvaluations += y.shape[0];
            return problem.Dynamics.call(t, y);
        }

        // Walk the segments backwards; each is the steps from one checkpoint to the next. Without a budget every step
        // stored its start state; with one, the segment's start states are recomputed from the checkpoint first.
        var steps = recorder.Steps;
        for (var end = steps.Count; end > 0;)
        {
            var start = recorder.SegmentStart(end - 1);
            var states = recorder.Every == 1 ? null : Recompute(problem, recorder, start, end, Stage);
            for (var i = end - 1; i >= start; i--)
            {
                using var scope = NewDisposeScope();
                var step = steps[i];
                var incoming = cotangent.index_select(0, step.Rows);
                using (enable_grad())
                {
                    var y = (states?[i - start] ?? step.Y!).detach().requires_grad_(true);
                    var k1 = Stage(step.T, y);
                    using var taken = problem.Scheme.Step(Stage, step.T, step.Dt, y, k1);
                    Tensor[] inputs = [y, .. parameters];
                    List<Tensor> results = [taken.Y];
                    List<Tensor> cotangents = [incoming];
                    if (step.Outputs is { } held)
                    {
                        results.Add(Interpolated(problem, Stage, step, y, k1, taken, held));
                        cotangents.Add(AtSlots(gradOutput, held));
                    }

                    var grads = autograd.grad(results, inputs, cotangents, allow_unused: true);

                    // An input the step does not use has no gradient (TorchSharp returns null or an empty handle).
                    cotangent.index_copy_(0, step.Rows, grads[0] is { IsInvalid: false } gy ? gy : zeros_like(y));
                    for (var p = 0; p < parameters.Length; p++)
                    {
                        if (grads[p + 1] is { IsInvalid: false } g)
                        {
                            gradients[p].add_(g);
                        }
                    }
                }
            }

            foreach (var state in states ?? [])
            {
                state.Dispose();
            }

            end = start;
        }

        // Outputs at a row's start are its initial state's.
        if (outputs is not null && recorder.StartOutputs is { } first)
        {
            cotangent.index_add_(0, first.Rows, AtSlots(gradOutput, first), 1.0);
        }

        problem.OnBackward(new SolveSummary(calls, rowEvaluations, recorder.Steps.Count, 0));
        var result = new List<Tensor> { null!, cotangent };
        result.AddRange(gradients);
        return result;
    }

    // The entries (row, slot) of a [B, T, ...] tensor, [K, ...].
    private static Tensor AtSlots(Tensor outputs, HeldOutputs held)
    {
        var count = outputs.shape[1];
        var flat = outputs.reshape([outputs.shape[0] * count, .. outputs.shape.Skip(2)]);
        return flat.index_select(0, held.Rows.mul(count).add(held.Slots));
    }

    // The step's outputs, [R', ...] for the rows that hold one (a row holding several appears once per output), as
    // the solver wrote them: the scheme's dense output (with the end slope where it weights it, and its dense stages,
    // evaluated again on these rows), else cubic Hermite, and the step's end state itself at θ = 1.
    private static Tensor Interpolated(CheckpointProblem problem, StageFunction stage, RecordedStep step, Tensor y, Tensor k1, RungeKuttaStep taken, HeldOutputs held)
    {
        var scheme = problem.Scheme;
        var positions = held.Positions;
        Tensor Pick(Tensor x) => x.index_select(0, positions);
        var needsEndSlope = !scheme.HasDenseOutput || scheme.InterpolationUsesEndSlope;
        var endSlope = !needsEndSlope ? null : taken.EndSlope ?? stage(step.T.add(step.Dt), taken.Y);
        var dt = Pick(step.Dt);
        var sub = new RungeKuttaStep(Pick(taken.Y), null, endSlope is null ? null : Pick(endSlope), dt, [.. taken.Slopes.Select(Pick)]);
        sub = scheme.EvaluateDenseStages(stage, Pick(step.T), dt, Pick(y), sub);
        var values = !scheme.HasDenseOutput
            ? Hermite.Interpolate(Pick(y), sub.Y, Pick(k1), sub.EndSlope!, dt, held.Theta.to_type(y.dtype))
            : HostInterpolation.Interpolate(scheme, Pick(y), sub, Host(dt), sub.EndSlope, Host(held.Theta));
        return where(StepKernels.PerRow(held.Theta.eq(1.0), values), sub.Y, values);
    }

    // A [K] tensor's values as float64 on the host.
    private static double[] Host(Tensor x) => HostMemory.Read<double>(x.detach().to_type(ScalarType.Float64)).ToArray();

    // The start states of steps [start, end) replayed without a graph from the checkpoint stored at `start`.
    private static List<Tensor> Recompute(CheckpointProblem problem, StepRecorder recorder, int start, int end, StageFunction stage)
    {
        var states = new List<Tensor>();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var batch = recorder.Checkpoint(start).clone();
        for (var i = start; i < end; i++)
        {
            var step = recorder.Steps[i];
            var y = batch.index_select(0, step.Rows);
            states.Add(y.clone().DetachFromDisposeScope());
            using var taken = problem.Scheme.Step(stage, step.T, step.Dt, y, stage(step.T, y));
            batch.index_copy_(0, step.Rows, taken.Y);
        }

        return states;
    }

    // Records each iteration's accepted rows: their batch indices, start times and steps (state dtype, as the step
    // used them) and start states, detached and owned until the backward pass.
    // With a budget k > 1 it stores instead, every k recorded steps, the whole batch's latest states (the
    // checkpoint the segment's steps are replayed from).
    private sealed class StepRecorder : IStepObserver, IDisposable
    {
        private readonly Dictionary<int, Tensor> checkpoints = [];
        private readonly Tensor y0;
        private readonly int[]? next;
        private Tensor? latest;

        public StepRecorder(Tensor y0, int every, OutputTimes? outputs)
        {
            this.y0 = y0;
            Every = every;
            Outputs = outputs;
            if (outputs is null)
            {
                return;
            }

            // The outputs at a row's start are written from its initial state before any step.
            next = new int[outputs.Rows];
            var rows = new List<long>();
            var slots = new List<long>();
            for (var row = 0; row < outputs.Rows; row++)
            {
                while (next[row] < outputs.Count && outputs.Reached(row, next[row], outputs.Start(row)))
                {
                    rows.Add(row);
                    slots.Add(next[row]++);
                }
            }

            StartOutputs = rows.Count == 0 ? null : HeldOutputs.Create(rows, slots, rows.Select(static _ => 0L).ToList(), rows.Select(static _ => 0.0).ToList(), y0.device);
        }

        public List<RecordedStep> Steps { get; } = [];

        public OutputTimes? Outputs { get; }

        public HeldOutputs? StartOutputs { get; }

        public int Every { get; }

        // The first step of the segment that holds step i.
        public int SegmentStart(int i) => Every == 1 ? i : i / Every * Every;

        public Tensor Checkpoint(int start) => checkpoints[start];

        public (Tensor SumOfSquares, long Count)? ErrorContribution(StepContext context) => null;

        public void Accepted(StepContext context, Tensor accept)
        {
            using var scope = NewDisposeScope();
            var taken = accept.nonzero().squeeze(1);
            if (taken.shape[0] == 0)
            {
                return;
            }

            var rows = context.Index.index_select(0, taken);
            var start = context.Y.detach().index_select(0, taken);
            if (Every > 1)
            {
                // Every row's current state (the end of its last accepted step), copied at each segment's start.
                latest ??= y0.detach().clone().DetachFromDisposeScope();
                if (Steps.Count % Every == 0)
                {
                    checkpoints[Steps.Count] = latest.clone().DetachFromDisposeScope();
                }

                latest.index_copy_(0, rows, context.Step.Y.detach().index_select(0, taken));
            }

            Steps.Add(new RecordedStep(
                rows.DetachFromDisposeScope(),
                context.T.index_select(0, taken).DetachFromDisposeScope(),
                context.Dt.index_select(0, taken).DetachFromDisposeScope(),
                Every == 1 ? start.DetachFromDisposeScope() : null,
                HeldBy(context, taken, rows)));
        }

        // The outputs that fall in this step of the taken rows, exactly as the solver picks and places them: every
        // time τ up to the step's end, at θ = (τ − t)/(t_end − t) on the float64 clock.
        private HeldOutputs? HeldBy(StepContext context, Tensor taken, Tensor rows)
        {
            if (Outputs is null)
            {
                return null;
            }

            var global = rows.cpu().data<long>().ToArray();
            var starts = context.ClockStart!.index_select(0, taken).cpu().data<double>().ToArray();
            var ends = context.ClockEnd!.index_select(0, taken).cpu().data<double>().ToArray();
            var heldRows = new List<long>();
            var slots = new List<long>();
            var positions = new List<long>();
            var thetas = new List<double>();
            for (var p = 0; p < global.Length; p++)
            {
                var row = (int)global[p];
                var span = ends[p] - starts[p];
                while (next![row] < Outputs.Count && Outputs.Reached(row, next[row], ends[p]))
                {
                    var tau = Outputs.At(row, next[row]);
                    heldRows.Add(row);
                    slots.Add(next[row]++);
                    positions.Add(p);
                    thetas.Add(span == 0 ? 1.0 : Math.Clamp((tau - starts[p]) / span, 0.0, 1.0));
                }
            }

            return heldRows.Count == 0 ? null : HeldOutputs.Create(heldRows, slots, positions, thetas, y0.device);
        }

        public void Dispose()
        {
            foreach (var step in Steps)
            {
                step.Rows.Dispose();
                step.T.Dispose();
                step.Dt.Dispose();
                step.Y?.Dispose();
                step.Outputs?.Dispose();
            }

            StartOutputs?.Dispose();

            foreach (var checkpoint in checkpoints.Values)
            {
                checkpoint.Dispose();
            }

            latest?.Dispose();
            Steps.Clear();
            checkpoints.Clear();
        }
    }

    // One iteration's accepted rows: indices [R] int64, start times and steps [R] (state dtype), start states [R, ...]
    // (null with a checkpoint budget: they are recomputed).
    private sealed record RecordedStep(Tensor Rows, Tensor T, Tensor Dt, Tensor? Y, HeldOutputs? Outputs);

    // Outputs held by one step: their batch rows [K] and output slots [K] (int64), the positions of those rows among
    // the step's rows [K] and where in the step they lie, θ [K] float64.
    private sealed record HeldOutputs(Tensor Rows, Tensor Slots, Tensor Positions, Tensor Theta) : IDisposable
    {
        public static HeldOutputs Create(List<long> rows, List<long> slots, List<long> positions, List<double> thetas, Device device) =>
            new(
                tensor(rows.ToArray(), device: device).DetachFromDisposeScope(),
                tensor(slots.ToArray(), device: device).DetachFromDisposeScope(),
                tensor(positions.ToArray(), device: device).DetachFromDisposeScope(),
                tensor(thetas.ToArray(), dtype: ScalarType.Float64, device: device).DetachFromDisposeScope());

        public void Dispose()
        {
            Rows.Dispose();
            Slots.Dispose();
            Positions.Dispose();
            Theta.Dispose();
        }
    }

    // The output times per row, [B, T'] on the CPU: the plan's knots from its first output on.
    private sealed class OutputTimes(TimeGrid knots, int first)
    {
        public long Rows => knots.Rows;

        public int Count => knots.Count - first;

        public double At(long row, int slot) => knots.At(row, slot + first);

        public double Start(long row) => knots.At(row, 0);

        // Whether output `slot` of `row` is at or before `time` in the row's direction.
        public bool Reached(long row, int slot, double time)
        {
            var direction = knots.At(row, knots.Count - 1) >= knots.At(row, 0) ? 1.0 : -1.0;
            return (At(row, slot) - time) * direction <= 0;
        }

        public Tensor ToTensor(Device device)
        {
            using var scope = NewDisposeScope();
            var all = knots.ToTensor(device);
            return all.narrow(1, first, Count).contiguous().MoveToOuterDisposeScope();
        }
    }
}
