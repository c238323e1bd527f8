using NeuralOde.Solving;
using NeuralOde.Stepping;
using TorchSharp;
using static TorchSharp.torch;

namespace NeuralOde.Modules;

/// <summary>Everything the adjoint needs besides tensors: passed to the autograd function as one object.</summary>
/// <param name="Dynamics">The dynamics module (its parameters get the gradients).</param>
/// <param name="Scheme">The scheme, also used backwards.</param>
/// <param name="Options">The forward solve's options.</param>
/// <param name="Adjoint">The backward solve's options.</param>
/// <param name="Plan">The knots and outputs of the forward solve.</param>
/// <param name="ThrowOnFailure">Whether a failed backward row throws.</param>
/// <param name="Forward">Solves forward without a graph and returns the outputs (and records the work).</param>
/// <param name="OnBackward">Receives the backward pass's work.</param>
internal sealed record AdjointProblem(
    OdeFunc Dynamics,
    RungeKuttaScheme Scheme,
    SolverOptions Options,
    AdjointOptions Adjoint,
    ForwardPlan Plan,
    bool ThrowOnFailure,
    Func<Tensor, Tensor> Forward,
    Action<SolveSummary> OnBackward);

/// <summary>
/// The continuous adjoint as a custom autograd function. Forward: an ordinary solve without a graph. Backward: the
/// state and the adjoint <c>a = ∂L/∂y</c> are integrated backwards together with the same scheme
/// (<c>dy/dt = f</c>, <c>da/dt = −aᵀ∂f/∂y</c>), every row with its own step, from the last knot to the first: at
/// each knot the state is reset to the forward solve's and that output's cotangent is added, each row at its own
/// time. The parameter gradient <c>∫ aᵀ∂f/∂θ dt</c> is a sum over rows, so it is integrated alongside as a
/// quadrature over each accepted step's stages (the seminorm), or, with a full norm, inside one batch-wide
/// step-size control.
/// </summary>
internal sealed class OdeAdjointFunction : autograd.SingleTensorFunction<OdeAdjointFunction>
{
    public override string Name => nameof(OdeAdjointFunction);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var problem = (AdjointProblem)vars[0];
        var y0 = (Tensor)vars[1];
        Tensor result;
        using (no_grad())
        {
            using var outputs = problem.Forward(y0.detach());
            result = outputs.detach().clone();
        }

        ctx.save_data("problem", problem);
        ctx.save_for_backward([result]);
        return result;
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
    {
        var problem = (AdjointProblem)ctx.get_data("problem");
        var saved = ctx.get_saved_variables()[0];
        var plan = problem.Plan;
        var parameters = problem.Dynamics.parameters().Where(static p => p.requires_grad).ToArray();
        var gradients = parameters.Select(static p => zeros_like(p)).ToArray();
        var summary = new SolveSummary(0, 0, 0, 0);

        Tensor StateAt(int knot) => plan.FinalOnly ? saved : saved.select(1, knot - plan.FirstOutput);
        Tensor? CotangentAt(int knot) =>
            knot < plan.FirstOutput ? null : plan.FinalOnly ? gradOutput : gradOutput.select(1, knot - plan.FirstOutput);

        // Walk the knots backwards: integrate each segment, then add the cotangent of the output at its start.
        var last = plan.Knots.Count - 1;
        var adjoint = CotangentAt(last)!.clone();
        for (var knot = last; knot > 0; knot--)
        {
            var next = Segment(problem, StateAt(knot), adjoint, knot, parameters, gradients, ref summary);
            adjoint.Dispose();
            adjoint = next;
            if (CotangentAt(knot - 1) is { } cotangent)
            {
                adjoint.add_(cotangent);
            }
        }

        problem.OnBackward(summary);
        var result = new List<Tensor> { null!, adjoint };
        result.AddRange(gradients);
        return result;
    }

    // Integrates (y, a) over segment `knot` → `knot − 1` of every row; adds the segment's parameter gradient to
    // `gradients`. Rows whose segment has zero length keep their adjoint.
    private static Tensor Segment(
        AdjointProblem problem,
        Tensor yFrom,
        Tensor aFrom,
        int knot,
        Tensor[] parameters,
        Tensor[] gradients,
        ref SolveSummary summary)
    {
        var knots = problem.Plan.Knots;
        var from = knots.Column(knot);
        var to = knots.Column(knot - 1);
        if (from.SequenceEqual(to))
        {
            return aFrom.clone();
        }

        using var scope = NewDisposeScope();
        var rows = yFrom.shape[0];
        var stateShape = yFrom.shape;
        var size = yFrom.numel() / rows;
        var z0 = cat([yFrom.detach().reshape(rows, size), aFrom.detach().reshape(rows, size)], 1);
        var forward = problem.Options;
        var fullNorm = !problem.Adjoint.Seminorm;
        var options = forward with
        {
            RelativeTolerance = problem.Adjoint.RelativeTolerance ?? forward.RelativeTolerance,
            AbsoluteTolerance = problem.Adjoint.AbsoluteTolerance ?? forward.AbsoluteTolerance,
            RelativeToleranceRows = null,
            AbsoluteToleranceRows = null,
            OutputTimes = null,
            SharedStepSize = fullNorm || problem.Adjoint.SharedStepSize,
            ThrowOnFailure = false,
            InitialStep = null,
        };

        // A segment shared by all rows is solved over its span, rows with their own segments over theirs.
        Func<Tensor, Tensor, Tensor, Tensor> dynamics = (t, y, _) => problem.Dynamics.call(t, y);
        var augmented = new AugmentedDynamics(dynamics, stateShape, size, parameters);
        var observer = new ParameterGradientObserver(problem, augmented, parameters, gradients);
        var watcher = fullNorm ? (IStepObserver)observer : observer.SeminormOnly();
        using var solution = knots.ColumnShared(knot) && knots.ColumnShared(knot - 1)
            ? Ode.Solve(problem.Scheme, augmented.Evaluate, z0, from[0], to[0], options, watcher)
            : Ode.Solve(problem.Scheme, augmented.Evaluate, z0, tensor(from, device: yFrom.device), tensor(to, device: yFrom.device), options, watcher);
        OdeBlock.CheckStatus(solution, problem.ThrowOnFailure);
        summary = summary.Add(SolveSummary.From(solution.Stats)).Add(new SolveSummary(augmented.Calls, augmented.RowEvaluations, 0, 0));
        var adjoint = solution.Y.narrow(1, size, size).reshape(stateShape).clone();
        return adjoint.MoveToOuterDisposeScope();
    }

    // f_aug(t, [y, a]) = [f(t, y), −aᵀ ∂f/∂y], rows flattened: [B, 2N]. While a step's stages are evaluated, the
    // same vector–Jacobian product also yields that stage's parameter term Σ_r h_r·a_rᵀ ∂f_r/∂θ (the cotangent is
    // scaled by each row's step, so that rows with different steps are weighted right in the sum over rows).
    private sealed class AugmentedDynamics(Func<Tensor, Tensor, Tensor, Tensor> dynamics, long[] stateShape, long size, Tensor[] parameters)
    {
        // f(t [B'], y [B', ...], rows [B']) → dy/dt (rows: each evaluated row's index in the batch).
        public Func<Tensor, Tensor, Tensor, Tensor> Dynamics { get; } = dynamics;

        public long Size { get; } = size;

        // Set by the observer between BeginStep and Accepted: each row's step (0 for rows that are not running).
        public Tensor? StageWeights { get; set; }

        // The parameter terms of the stages evaluated since BeginStep, in stage order (stages 2…s).
        public List<Tensor[]> StageTerms { get; } = [];

        public long Calls { get; private set; }

        public long RowEvaluations { get; private set; }

        public Tensor StateOf(Tensor z) => z.narrow(1, 0, Size).reshape(Shape(z.shape[0]));

        public Tensor AdjointOf(Tensor z) => z.narrow(1, Size, Size).reshape(Shape(z.shape[0]));

        public long[] Shape(long rows)
        {
            var shape = (long[])stateShape.Clone();
            shape[0] = rows;
            return shape;
        }

        public Tensor Evaluate(Tensor t, Tensor z, Tensor batchRows)
        {
            using var scope = NewDisposeScope();
            var rows = z.shape[0];
            var adjoint = AdjointOf(z);
            Tensor slope, vjp;
            using (enable_grad())
            {
                var y = StateOf(z).detach().requires_grad_(true);
                var fy = Dynamics(t, y, batchRows);
                slope = fy.detach();
                if (!fy.requires_grad)
                {
                    vjp = zeros_like(y);
                    if (StageWeights is not null)
                    {
                        StageTerms.Add([.. parameters.Select(static p => zeros_like(p).DetachFromDisposeScope())]);
                    }
                }
                else if (StageWeights is { } h)
                {
                    // One product for the state and the parameters, with the cotangent h·a; the state's part is
                    // divided by h again (rows with h = 0 are not running and get 0).
                    var column = StepKernels.PerRow(h, adjoint);
                    var grads = autograd.grad([fy], [y, .. parameters], [adjoint.mul(column)], allow_unused: true);
                    var scaled = grads[0] ?? zeros_like(y);
                    var safe = column.masked_fill(column.eq(0), 1.0);
                    vjp = scaled.div(safe).masked_fill_(column.eq(0), 0.0);
                    StageTerms.Add([.. parameters.Select((p, i) => (grads[i + 1] ?? zeros_like(p)).detach().DetachFromDisposeScope())]);
                }
                else
                {
                    vjp = autograd.grad([fy], [y], [adjoint], allow_unused: true)[0] ?? zeros_like(y);
                }
            }

            return cat([slope.reshape(rows, Size), vjp.neg().reshape(rows, Size)], 1).MoveToOuterDisposeScope();
        }

        // Σ over the selected rows of w_i·h·(−aᵢᵀ ∂f/∂θ(tᵢ, yᵢ)) for the stages with a nonzero weight, with every stage
        // input rebuilt from the step's scaled stages and evaluated in one batched call.
        public Tensor[] Quadrature(StepContext context, ButcherTableau tableau, Tensor rowsMask, Func<int, double> weight)
        {
            var rows = rowsMask.nonzero().squeeze(1);
            var batchRows = context.Index.index_select(0, rows);
            var z = context.Y.index_select(0, rows);
            var t = context.T.index_select(0, rows);
            var dt = context.Dt.index_select(0, rows);
            var stages = context.Step.ScaledStages.Select(hk => hk.index_select(0, rows)).ToArray();

            var inputs = new List<Tensor>();
            var times = new List<Tensor>();
            var cotangentWeights = new List<Tensor>();
            for (var i = 0; i < tableau.Stages; i++)
            {
                var w = weight(i);
                if (w == 0)
                {
                    continue;
                }

                var zi = z;
                for (var j = 0; j < i; j++)
                {
                    var a = tableau.A[i][j].Value;
                    if (a != 0)
                    {
                        zi = zi.add(stages[j], a);
                    }
                }

                inputs.Add(zi);
                times.Add(t.add(dt, tableau.C[i].Value));
                cotangentWeights.Add(dt.mul(-w));
            }

            if (inputs.Count == 0 || rows.shape[0] == 0)
            {
                return [.. parameters.Select(static p => zeros_like(p))];
            }

            var all = cat(inputs, 0);
            var state = StateOf(all).detach();
            var adjoint = AdjointOf(all);
            var cotangent = adjoint.mul(StepKernels.PerRow(cat(cotangentWeights, 0), adjoint));
            Calls++;
            RowEvaluations += state.shape[0];
            using (enable_grad())
            {
                var fy = Dynamics(cat(times, 0), state, cat(Enumerable.Repeat(batchRows, inputs.Count).ToArray(), 0));
                if (!fy.requires_grad)
                {
                    return [.. parameters.Select(static p => zeros_like(p))];
                }

                var grads = autograd.grad([fy], parameters, [cotangent], allow_unused: true);
                return [.. grads.Select((g, p) => g ?? zeros_like(parameters[p]))];
            }
        }
    }

    // Integrates dg/dt = −aᵀ ∂f/∂θ over each accepted step with the step's own stages (a quadrature of the same order
    // as the scheme), summed over rows. The stages 2…s come with the augmented dynamics' evaluations; stage 1 (whose
    // slope was evaluated before the step's size was known) and the rows whose step was rejected are evaluated
    // separately. With a full norm it also reports the parameter terms' error estimate to the controller.
    private sealed class ParameterGradientObserver(AdjointProblem problem, AugmentedDynamics augmented, Tensor[] parameters, Tensor[] gradients) : IStepObserver
    {
        private readonly ButcherTableau tableau = problem.Scheme.Tableau;
        private Tensor[]? pending;

        public IStepObserver SeminormOnly() => new Seminorm(this);

        public void BeginStep(Tensor rows, Tensor dt, Tensor active)
        {
            if (parameters.Length == 0)
            {
                return;
            }

            ClearStageTerms();
            augmented.StageWeights = dt.mul(active.to_type(dt.dtype)).DetachFromDisposeScope();
        }

        public (Tensor SumOfSquares, long Count)? ErrorContribution(StepContext context)
        {
            if (parameters.Length == 0)
            {
                return null;
            }

            var bHat = tableau.BHat!;
            var increment = Combine(context, context.Active, i => tableau.B[i].Value);
            var error = Combine(context, context.Active, i => tableau.B[i].Value - bHat[i].Value);
            var rtol = problem.Adjoint.RelativeTolerance ?? problem.Options.RelativeTolerance;
            var atol = problem.Adjoint.AbsoluteTolerance ?? problem.Options.AbsoluteTolerance;
            Tensor? squares = null;
            long count = 0;
            for (var p = 0; p < parameters.Length; p++)
            {
                var scale = gradients[p].abs().maximum(gradients[p].add(increment[p]).abs()).mul_(rtol).add_(atol);
                var term = error[p].div(scale).square().sum();
                squares = squares is null ? term : squares.add_(term);
                count += parameters[p].numel();
            }

            pending = [.. increment.Select(static t => t.detach().DetachFromDisposeScope())];
            return (squares!, count);
        }

        public void Accepted(StepContext context, Tensor accept)
        {
            EndStep();
            if (pending is null)
            {
                return;
            }

            // One step size for the batch: the step is accepted or rejected as a whole.
            if (accept.any().item<bool>())
            {
                for (var p = 0; p < parameters.Length; p++)
                {
                    gradients[p].add_(pending[p]);
                }
            }

            foreach (var tensor in pending)
            {
                tensor.Dispose();
            }

            pending = null;
        }

        public void AcceptRows(StepContext context, Tensor accept)
        {
            if (parameters.Length == 0)
            {
                return;
            }

            if (accept.any().item<bool>())
            {
                // The stage terms cover every running row; take the rejected rows' share out again.
                var increment = Combine(context, accept, i => tableau.B[i].Value);
                var rejected = context.Active.logical_and(accept.logical_not());
                var correction = rejected.any().item<bool>()
                    ? augmented.Quadrature(context, tableau, rejected, i => i == 0 ? 0 : tableau.B[i].Value)
                    : null;
                for (var p = 0; p < parameters.Length; p++)
                {
                    gradients[p].add_(increment[p]);
                    if (correction is not null)
                    {
                        gradients[p].sub_(correction[p]);
                    }
                }
            }

            EndStep();
        }

        // Σᵢ wᵢ·(stage i's parameter term): stages 2…s from the recorded products (negated: dg/dt = −aᵀ∂f/∂θ), stage 1
        // evaluated for the given rows.
        private Tensor[] Combine(StepContext context, Tensor firstStageRows, Func<int, double> weight)
        {
            var total = augmented.Quadrature(context, tableau, firstStageRows, i => i == 0 ? weight(0) : 0);
            for (var i = 1; i < tableau.Stages && i - 1 < augmented.StageTerms.Count; i++)
            {
                var w = weight(i);
                if (w == 0)
                {
                    continue;
                }

                var terms = augmented.StageTerms[i - 1];
                for (var p = 0; p < parameters.Length; p++)
                {
                    total[p] = total[p].add(terms[p], -w);
                }
            }

            return total;
        }

        private void EndStep()
        {
            augmented.StageWeights?.Dispose();
            augmented.StageWeights = null;
            ClearStageTerms();
        }

        private void ClearStageTerms()
        {
            foreach (var terms in augmented.StageTerms)
            {
                foreach (var tensor in terms)
                {
                    tensor.Dispose();
                }
            }

            augmented.StageTerms.Clear();
        }

        private sealed class Seminorm(ParameterGradientObserver owner) : IStepObserver
        {
            public void BeginStep(Tensor rows, Tensor dt, Tensor active) => owner.BeginStep(rows, dt, active);

            public (Tensor SumOfSquares, long Count)? ErrorContribution(StepContext context) => null;

            public void Accepted(StepContext context, Tensor accept) => owner.AcceptRows(context, accept);
        }
    }
}
