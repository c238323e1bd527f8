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
        using var augmented = new AugmentedDynamics(dynamics, stateShape, size, parameters);
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

    // f_aug(t, [y, a]) = [f(t, y), −aᵀ ∂f/∂y], rows flattened: [B, 2N]. Every evaluation keeps its graph, filed under
    // the very state tensor it was evaluated at, so that a stage's parameter term aᵀ ∂f/∂θ costs a backward pass
    // but no second evaluation of f: once a step's acceptance is known, the observer asks for the terms at the step's
    // own stage states (RungeKuttaStep.StageStates), each row with its own weight.
    private sealed class AugmentedDynamics(Func<Tensor, Tensor, Tensor, Tensor> dynamics, long[] stateShape, long size, Tensor[] parameters) : IDisposable
    {
        // The evaluations retained since the last Forget, by the tensor they were evaluated at (reference identity).
        private readonly Dictionary<Tensor, Evaluation> evaluations = new(ReferenceEqualityComparer.Instance);

        public long Size { get; } = size;

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
                var fy = dynamics(t, y, batchRows);
                slope = fy.detach();
                if (!fy.requires_grad)
                {
                    vjp = zeros_like(y);
                }
                else
                {
                    // Without parameters there is no parameter term to come back for.
                    var keep = parameters.Length > 0;
                    vjp = autograd.grad([fy], [y], [adjoint], retain_graph: keep, allow_unused: true)[0] ?? zeros_like(y);
                    if (keep)
                    {
                        Remember(z, fy.alias(), adjoint);
                    }
                }
            }

            // [f, −aᵀ∂f/∂y], negated in place: one state-sized temporary fewer per evaluation.
            var augmentedSlope = cat([slope.reshape(rows, Size), vjp.reshape(rows, Size)], 1);
            augmentedSlope.narrow(1, Size, Size).neg_();
            return augmentedSlope.MoveToOuterDisposeScope();
        }

        // Σ over the given stages i and the rows r of wᵢ·ρᵣ·aᵢᵣᵀ ∂f/∂θ(tᵢ, Yᵢᵣ) at the step's own stage states Yᵢ, with
        // ρ = dt on the rows of `rows` and 0 elsewhere. Each term comes from the retained evaluation at Yᵢ, or from a new
        // one where there is none (the first stage after the work set was compacted or some rows were rejected: its
        // state is then a tensor the slope was not evaluated at). A row that does not count can still spoil the sum
        // (0 times a non-finite activation is NaN), so a non-finite sum is computed again from the counted rows alone.
        public Tensor[] ParameterTerm(StepContext context, Tensor rows, IReadOnlyList<(int Stage, double Weight)> stages, Func<int, Tensor> stageTime)
        {
            using var scope = NewDisposeScope();
            var states = context.Step.StageStates
                ?? throw new InvalidOperationException("The scheme's step does not report its stage states (RungeKuttaStep.StageStates), which the adjoint's parameter gradient is computed from.");
            var rho = context.Dt.mul(rows.to_type(context.Dt.dtype));
            var outputs = new List<Tensor>();
            var cotangents = new List<Tensor>();
            foreach (var (stage, weight) in stages)
            {
                var state = states[stage];
                var (slope, adjoint) = evaluations.TryGetValue(state, out var retained)
                    ? (retained.Slope, retained.Adjoint)
                    : EvaluateForParameters(stageTime(stage), state, context.Index);
                outputs.Add(slope);
                cotangents.Add(adjoint.mul(StepKernels.PerRow(rho.mul(weight), adjoint)));
            }

            var terms = Gradients(outputs, cotangents);
            if (!AllFinite(terms))
            {
                terms = ParameterTermOfRows(context, rows, rho, stages, stageTime);
            }

            return [.. terms.Select(static t => t.MoveToOuterDisposeScope())];
        }

        // Drops the retained evaluations, except those at the step's end state (with FSAL, its slope is the next step's
        // first stage) and at its start (the first stage again when the step is retried).
        public void Forget(RungeKuttaStep step, Tensor start)
        {
            foreach (var (state, evaluation) in evaluations.ToList())
            {
                if (!ReferenceEquals(state, step.Y) && !ReferenceEquals(state, start))
                {
                    evaluation.Dispose();
                    evaluations.Remove(state);
                }
            }
        }

        public void Dispose()
        {
            foreach (var evaluation in evaluations.Values)
            {
                evaluation.Dispose();
            }

            evaluations.Clear();
        }

        private void Remember(Tensor state, Tensor slope, Tensor adjoint)
        {
            if (evaluations.Remove(state, out var earlier))
            {
                earlier.Dispose();
            }

            evaluations[state] = new Evaluation(slope.DetachFromDisposeScope(), adjoint.DetachFromDisposeScope());
        }

        // f at (t, Y) with the parameters' graph only, for a stage state without a retained evaluation.
        private (Tensor Slope, Tensor Adjoint) EvaluateForParameters(Tensor t, Tensor z, Tensor batchRows)
        {
            Calls++;
            RowEvaluations += z.shape[0];
            using (enable_grad())
            {
                return (dynamics(t, StateOf(z).detach(), batchRows), AdjointOf(z));
            }
        }

        // The parameter term of the counted rows alone, all stages in one batched evaluation at the step's stage states.
        private Tensor[] ParameterTermOfRows(StepContext context, Tensor rows, Tensor rho, IReadOnlyList<(int Stage, double Weight)> stages, Func<int, Tensor> stageTime)
        {
            var selected = rows.nonzero().squeeze(1);
            if (selected.shape[0] == 0 || stages.Count == 0)
            {
                return [.. parameters.Select(static p => zeros_like(p))];
            }

            var states = context.Step.StageStates!;
            var batchRows = context.Index.index_select(0, selected);
            var rhoRows = rho.index_select(0, selected);
            var z = cat([.. stages.Select(s => states[s.Stage].index_select(0, selected))], 0);
            var t = cat([.. stages.Select(s => stageTime(s.Stage).index_select(0, selected))], 0);
            var weights = cat([.. stages.Select(s => rhoRows.mul(s.Weight))], 0);
            var (slope, adjoint) = EvaluateForParameters(t, z, cat(Enumerable.Repeat(batchRows, stages.Count).ToArray(), 0));
            return Gradients([slope], [adjoint.mul(StepKernels.PerRow(weights, adjoint))]);
        }

        // One backward pass over the given outputs' graphs (kept: a term may be asked for twice, and the FSAL stage
        // again in the next step); zeros for parameters that nothing depends on.
        private Tensor[] Gradients(List<Tensor> outputs, List<Tensor> cotangents)
        {
            var used = Enumerable.Range(0, outputs.Count).Where(i => outputs[i].requires_grad).ToList();
            if (used.Count == 0)
            {
                return [.. parameters.Select(static p => zeros_like(p))];
            }

            var grads = autograd.grad([.. used.Select(i => outputs[i])], parameters, [.. used.Select(i => cotangents[i])], retain_graph: true, allow_unused: true);
            return [.. grads.Select((g, p) => g?.detach() ?? zeros_like(parameters[p]))];
        }

        // One host sync: a non-finite entry anywhere makes the sum non-finite.
        private static bool AllFinite(Tensor[] terms)
        {
            if (terms.Length == 0)
            {
                return true;
            }

            var total = terms[0].sum();
            for (var p = 1; p < terms.Length; p++)
            {
                total = total.add(terms[p].sum());
            }

            return total.isfinite().item<bool>();
        }

        // A retained evaluation: the slope with its graph and the adjoint it was evaluated with (the cotangent's base).
        private readonly record struct Evaluation(Tensor Slope, Tensor Adjoint) : IDisposable
        {
            public void Dispose()
            {
                Slope.Dispose();
                Adjoint.Dispose();
            }
        }
    }

    // Integrates dg/dt = −aᵀ ∂f/∂θ over each accepted step with the step's own stages (a quadrature of the same order
    // as the scheme), summed over rows: once the step's acceptance is known, the parameter terms of the stages with a
    // nonzero weight are taken at the stage states the step reports, each accepted row weighted by its step. With a
    // full norm it also reports the parameter terms' error estimate to the controller.
    private sealed class ParameterGradientObserver : IStepObserver
    {
        private readonly AugmentedDynamics augmented;
        private readonly Tensor[] parameters;
        private readonly Tensor[] gradients;
        private readonly ButcherTableau tableau;
        private readonly double rtol;
        private readonly double atol;

        // The weights −bᵢ of the increment and −(bᵢ − b̂ᵢ) of its error estimate, nonzero ones only (dg/dt = −aᵀ∂f/∂θ).
        private readonly (int Stage, double Weight)[] incrementWeights;
        private readonly (int Stage, double Weight)[] errorWeights;
        private Tensor[]? pending;

        public ParameterGradientObserver(AdjointProblem problem, AugmentedDynamics augmented, Tensor[] parameters, Tensor[] gradients)
        {
            this.augmented = augmented;
            this.parameters = parameters;
            this.gradients = gradients;
            tableau = problem.Scheme.Tableau;
            rtol = problem.Adjoint.RelativeTolerance ?? problem.Options.RelativeTolerance;
            atol = problem.Adjoint.AbsoluteTolerance ?? problem.Options.AbsoluteTolerance;
            incrementWeights = Weights(i => tableau.B[i].Value);
            errorWeights = tableau.BHat is { } bHat ? Weights(i => tableau.B[i].Value - bHat[i].Value) : [];
        }

        public IStepObserver SeminormOnly() => new Seminorm(this);

        public (Tensor SumOfSquares, long Count)? ErrorContribution(StepContext context)
        {
            if (parameters.Length == 0)
            {
                return null;
            }

            var increment = augmented.ParameterTerm(context, context.Active, incrementWeights, stage => StageTime(context, stage));
            var error = augmented.ParameterTerm(context, context.Active, errorWeights, stage => StageTime(context, stage));
            Tensor? squares = null;
            long count = 0;
            for (var p = 0; p < parameters.Length; p++)
            {
                var scale = gradients[p].abs().maximum(gradients[p].add(increment[p]).abs()).mul_(rtol).add_(atol);
                var term = error[p].div(scale).square().sum();
                squares = squares is null ? term : squares.add_(term);
                count += parameters[p].numel();
            }

            pending = [.. increment.Select(static t => t.DetachFromDisposeScope())];
            return (squares!, count);
        }

        public void Accepted(StepContext context, Tensor accept)
        {
            if (pending is not null)
            {
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

            augmented.Forget(context.Step, context.Y);
        }

        public void AcceptRows(StepContext context, Tensor accept)
        {
            if (parameters.Length > 0 && accept.any().item<bool>())
            {
                var increment = augmented.ParameterTerm(context, accept, incrementWeights, stage => StageTime(context, stage));
                for (var p = 0; p < parameters.Length; p++)
                {
                    gradients[p].add_(increment[p]);
                }
            }

            augmented.Forget(context.Step, context.Y);
        }

        // The nonzero weights −w(i), by stage.
        private (int Stage, double Weight)[] Weights(Func<int, double> weight) =>
            [.. Enumerable.Range(0, tableau.Stages).Where(i => weight(i) != 0).Select(i => (i, -weight(i)))];

        // Stage i's time as the generated step computes it, t + cᵢ·dt (only needed for a stage evaluated again).
        private Tensor StageTime(StepContext context, int stage) =>
            stage == 0 ? context.T : context.T.add(context.Dt, tableau.C[stage].Value);

        private sealed class Seminorm(ParameterGradientObserver owner) : IStepObserver
        {
            public (Tensor SumOfSquares, long Count)? ErrorContribution(StepContext context) => null;

            public void Accepted(StepContext context, Tensor accept) => owner.AcceptRows(context, accept);
        }
    }
}
