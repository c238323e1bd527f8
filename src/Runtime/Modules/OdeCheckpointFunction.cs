using NeuralOde.Solving;
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
        var recorder = new StepRecorder();
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

        for (var i = recorder.Steps.Count - 1; i >= 0; i--)
        {
            using var scope = NewDisposeScope();
            var step = recorder.Steps[i];
            var incoming = cotangent.index_select(0, step.Rows);
            using (enable_grad())
            {
                var y = step.Y.detach().requires_grad_(true);
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

        problem.OnBackward(new SolveSummary(calls, rowEvaluations, recorder.Steps.Count, 0));
        var result = new List<Tensor> { null!, cotangent };
        result.AddRange(gradients);
        return result;
    }

    // Records each iteration's accepted rows: their batch indices, start times and steps (state dtype, as the step
    // used them) and start states, detached and owned until the backward pass.
    private sealed class StepRecorder : IStepObserver, IDisposable
    {
        public List<RecordedStep> Steps { get; } = [];

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

            Steps.Add(new RecordedStep(
                context.Index.index_select(0, taken).DetachFromDisposeScope(),
                context.T.index_select(0, taken).DetachFromDisposeScope(),
                context.Dt.index_select(0, taken).DetachFromDisposeScope(),
                context.Y.detach().index_select(0, taken).DetachFromDisposeScope()));
        }

        public void Dispose()
        {
            foreach (var step in Steps)
            {
                step.Rows.Dispose();
                step.T.Dispose();
                step.Dt.Dispose();
                step.Y.Dispose();
            }

            Steps.Clear();
        }
    }

    // One iteration's accepted rows: indices [R] int64, start times and steps [R] (state dtype), start states [R, ...].
    private sealed record RecordedStep(Tensor Rows, Tensor T, Tensor Dt, Tensor Y);
}
