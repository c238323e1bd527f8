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
        var recorder = new StepRecorder(y0, problem.Every);
        using (no_grad())
        {
            using var solution = Ode.Solve(problem.Scheme, (t, y, _) => problem.Dynamics.call(t, y), y0, problem.T0, problem.T1, problem.Options, recorder);
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
            return solution.Y.detach().clone();
        }
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
    {
        var problem = (CheckpointProblem)ctx.get_data("problem");
        using var recorder = (StepRecorder)ctx.get_data("steps");
        var parameters = problem.Dynamics.parameters().Where(static p => p.requires_grad).ToArray();
        var gradients = parameters.Select(static p => zeros_like(p)).ToArray();
        var cotangent = gradOutput.detach().clone();
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
                    var grads = autograd.grad([taken.Y], inputs, [incoming], allow_unused: true);

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

        problem.OnBackward(new SolveSummary(calls, rowEvaluations, recorder.Steps.Count, 0));
        var result = new List<Tensor> { null!, cotangent };
        result.AddRange(gradients);
        return result;
    }

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
    private sealed class StepRecorder(Tensor y0, int every) : IStepObserver, IDisposable
    {
        private readonly Dictionary<int, Tensor> checkpoints = [];
        private Tensor? latest;

        public List<RecordedStep> Steps { get; } = [];

        public int Every { get; } = every;

        // The first step of the segment that holds step i.
        public int SegmentStart(int i) => Every == 1 ? i : i / Every * Every;

        public Tensor Checkpoint(int start) => checkpoints[start];

        public void BeginStep(Tensor rows, Tensor dt, Tensor active)
        {
        }

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
                Every == 1 ? start.DetachFromDisposeScope() : null));
        }

        public void Dispose()
        {
            foreach (var step in Steps)
            {
                step.Rows.Dispose();
                step.T.Dispose();
                step.Dt.Dispose();
                step.Y?.Dispose();
            }

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
    private sealed record RecordedStep(Tensor Rows, Tensor T, Tensor Dt, Tensor? Y);
}
