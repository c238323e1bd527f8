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
/// <param name="Forward">Solves forward without a graph and returns the outputs and each row's next step as the forward
/// controller proposed it, when the solve reports it (and records the work).</param>
/// <param name="OnBackward">Receives the backward pass's work.</param>
internal sealed record AdjointProblem(
    OdeFunc Dynamics,
    RungeKuttaScheme Scheme,
    SolverOptions Options,
    AdjointOptions Adjoint,
    ForwardPlan Plan,
    bool ThrowOnFailure,
    Func<Tensor, (Tensor Outputs, double[]? NextSteps)> Forward,
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
            var (outputs, nextSteps) = problem.Forward(y0.detach());
            using (outputs)
            {
                result = outputs.detach().clone();
            }

            ctx.save_data("nextSteps", nextSteps!);
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

        // Each segment's rows start with the step the solve before proposed at that knot: the forward's at the last knot
        // (it integrated the same state there, at the same tolerance), the previous segment's at the others.
        var firstSteps = (double[]?)ctx.get_data("nextSteps");
        for (var knot = last; knot > 0; knot--)
        {
            var next = Segment(problem, StateAt(knot), adjoint, knot, parameters, gradients, ref firstSteps, ref summary);
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
        ref double[]? firstSteps,
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
            InitialSteps = problem.Adjoint.FirstStepFromForward ? firstSteps : null,
        };

        // A segment shared by all rows is solved over its span, rows with their own segments over theirs.
        Func<Tensor, Tensor, Tensor, Tensor> dynamics = (t, y, _) => problem.Dynamics.call(t, y);
        using var augmented = new AugmentedDynamics(dynamics, stateShape, size, parameters, ParameterGradientObserver.WeightedStages(problem.Scheme.Tableau, fullNorm), problem.Scheme.IsFsal ? problem.Scheme.Stages - 1 : -1);
        var observer = new ParameterGradientObserver(problem, augmented, parameters, gradients);
        var watcher = fullNorm ? (IStepObserver)observer : observer.SeminormOnly();
        using var solution = knots.ColumnShared(knot) && knots.ColumnShared(knot - 1)
            ? Ode.Solve(problem.Scheme, augmented.Evaluate, z0, from[0], to[0], options, watcher)
            : Ode.Solve(problem.Scheme, augmented.Evaluate, z0, tensor(from, device: yFrom.device), tensor(to, device: yFrom.device), options, watcher);
        OdeBlock.CheckStatus(solution, problem.ThrowOnFailure);
        firstSteps = solution.NextSteps;
        summary = summary.Add(SolveSummary.From(solution.Stats)).Add(new SolveSummary(augmented.Calls, augmented.RowEvaluations, 0, 0));
        var adjoint = solution.Y.narrow(1, size, size).reshape(stateShape).clone();
        return adjoint.MoveToOuterDisposeScope();
    }

    // f_aug(t, [y, a]) = [f(t, y), −aᵀ ∂f/∂y], rows flattened: [B, 2N]. Each evaluation is filed under the very state
    // tensor it was evaluated at, so that a stage's parameter term aᵀ ∂f/∂θ costs no second evaluation of f: once a
    // step's acceptance is known, the observer asks for the terms at the step's own stage states
    // (RungeKuttaStep.StageStates). Within a step (between the observer's Starting and Accepted) each evaluation takes
    // the term in the vector–Jacobian product's own backward pass: the cotangent is weighted by each row's step over the
    // largest one, ρ = dt / max|dt| (so the sum over rows carries each row's weight, and no product grows), the state
    // part divided by ρ again and the terms multiplied by max|dt|. The step's first stage
    // was evaluated before the step was known, and a row that is not counted must be taken out again: those terms come
    // from a backward pass over the retained graph, or from the few rows evaluated again. A graph is kept only where a
    // term may still be asked of it that way: an evaluation outside a step (a first slope), the stage at a FSAL step's
    // end state (the next step's first), and a stage whose term was not taken in its own pass.
    private sealed class AugmentedDynamics(Func<Tensor, Tensor, Tensor, Tensor> dynamics, long[] stateShape, long size, Tensor[] parameters, bool[] weightedStages, int endStage) : IDisposable
    {
        // Steps whose running rows' |dt| spread over more than 2³⁰ keep their cotangents unweighted (a product with the
        // smallest weight could lose the cotangent's low bits, which dividing by it again would not give back).
        private static readonly double SmallestWeight = Math.ScaleB(1, -30);

        // The evaluations retained since the last Forget, by the tensor they were evaluated at (reference identity).
        private readonly Dictionary<Tensor, Evaluation> evaluations = new(ReferenceEqualityComparer.Instance);

        // The step being evaluated (Starting to Accepted) when its cotangents are weighted, else null; its number; the
        // stage the next evaluation was announced as (−1 when none was).
        private Weighting? weighting;
        private int stepNumber;
        private int announcedStage = -1;

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

        // Weights the cotangents of the step's evaluations by each running row's step over the largest (0 on the other
        // rows), when the running rows' steps spread over at most 2³⁰ and there are parameters to weight for.
        public void Starting(StepStart start)
        {
            stepNumber++;
            weighting?.Dispose();
            weighting = null;
            var largest = start.LargestStep;
            if (parameters.Length == 0 || !(largest > 0 && double.IsFinite(largest) && start.SmallestStep / largest >= SmallestWeight))
            {
                return;
            }

            using var scope = NewDisposeScope();
            var rho = start.Dt.div(largest).mul_(start.Active.to_type(start.Dt.dtype));
            var divisor = where(start.Active, rho, ones_like(rho));
            weighting = new Weighting(stepNumber, rho.DetachFromDisposeScope(), divisor.DetachFromDisposeScope(), largest);
        }

        // The next evaluation is the step's stage `stage`: weighted when some parameter term will be asked of it.
        public void Evaluating(int stage) => announcedStage = stage;

        // The step's evaluations are over: later ones (a scheme's end slope, a new row's first slope) are not weighted.
        public void Finished()
        {
            weighting?.Dispose();
            weighting = null;
            announcedStage = -1;
        }

        public Tensor Evaluate(Tensor t, Tensor z, Tensor batchRows)
        {
            using var scope = NewDisposeScope();
            var rows = z.shape[0];
            var adjoint = AdjointOf(z);
            var stage = announcedStage;
            announcedStage = -1;
            Tensor slope, vjp;
            using (enable_grad())
            {
                var y = StateOf(z).detach().requires_grad_(true);
                var fy = dynamics(t, y, batchRows);
                slope = fy.detach();
                var inStep = stage >= 0 && stage < weightedStages.Length;
                var weighted = weighting is { } w && w.Rho.shape[0] == rows && inStep && weightedStages[stage] ? w : null;
                var keep = parameters.Length > 0 && (!inStep || stage == endStage || (weightedStages[stage] && weighted is null));
                if (!fy.requires_grad)
                {
                    vjp = zeros_like(y);
                }
                else if (weighted is not null)
                {
                    // One backward pass for the state and the parameters, the cotangent weighted by ρ per row.
                    var grads = autograd.grad([fy], [y, .. parameters], [adjoint.mul(StepKernels.PerRow(weighted.Rho, adjoint))], retain_graph: keep, allow_unused: true);
                    vjp = grads[0] is { } scaled ? scaled.div_(StepKernels.PerRow(weighted.Divisor, scaled)) : zeros_like(y);
                    var terms = grads.Skip(1).Select((g, p) => g?.detach().mul_(weighted.Scale) ?? zeros_like(parameters[p])).ToArray();
                    Remember(z, keep ? fy.alias() : null, adjoint, terms, weighted.Step);
                }
                else
                {
                    // Without parameters there is no parameter term to come back for.
                    vjp = autograd.grad([fy], [y], [adjoint], retain_graph: keep, allow_unused: true)[0] ?? zeros_like(y);
                    if (keep)
                    {
                        Remember(z, fy.alias(), adjoint, null, 0);
                    }
                }
            }

            // [f, −aᵀ∂f/∂y], negated in place: one state-sized temporary fewer per evaluation.
            var augmentedSlope = cat([slope.reshape(rows, Size), vjp.reshape(rows, Size)], 1);
            augmentedSlope.narrow(1, Size, Size).neg_();
            return augmentedSlope.MoveToOuterDisposeScope();
        }

        // Σ over the given stages i and the rows r of wᵢ·ρᵣ·aᵢᵣᵀ ∂f/∂θ(tᵢ, Yᵢᵣ) at the step's own stage states Yᵢ, with
        // ρ = dt on the rows of `rows` and 0 elsewhere. A stage evaluated within this step brings its term, summed over
        // the running rows with ρ = dt; the running rows not in `rows` are evaluated again and taken out. Any other stage's
        // term comes from a backward pass over its retained evaluation at Yᵢ, or from a new evaluation where there is
        // none (the first stage after the work set was compacted or some rows were rejected: its state is then a tensor
        // the slope was not evaluated at). A row that does not count can still spoil the sum (0 times a non-finite
        // activation is NaN), so a non-finite sum is computed again from the counted rows alone.
        public Tensor[] ParameterTerm(StepContext context, Tensor rows, IReadOnlyList<(int Stage, double Weight)> stages, Func<int, Tensor> stageTime)
        {
            using var scope = NewDisposeScope();
            var states = context.Step.StageStates
                ?? throw new InvalidOperationException("The scheme's step does not report its stage states (RungeKuttaStep.StageStates), which the adjoint's parameter gradient is computed from.");
            var rho = context.Dt.mul(rows.to_type(context.Dt.dtype));
            var terms = parameters.Select(static p => zeros_like(p)).ToArray();
            var weighted = new List<(int Stage, double Weight)>();
            var outputs = new List<Tensor>();
            var cotangents = new List<Tensor>();
            foreach (var (stage, weight) in stages)
            {
                var state = states[stage];
                var found = evaluations.TryGetValue(state, out var retained);
                if (found && retained.Terms is { } stageTerms && retained.Step == stepNumber)
                {
                    weighted.Add((stage, weight));
                    for (var p = 0; p < terms.Length; p++)
                    {
                        terms[p].add_(stageTerms[p], weight);
                    }

                    continue;
                }

                var (slope, adjoint) = found && retained.Slope is { } kept
                    ? (kept, retained.Adjoint)
                    : EvaluateForParameters(stageTime(stage), state, context.Index);
                outputs.Add(slope);
                cotangents.Add(adjoint.mul(StepKernels.PerRow(rho.mul(weight), adjoint)));
            }

            AddTo(terms, Gradients(outputs, cotangents), 1);
            if (weighted.Count > 0 && !ReferenceEquals(rows, context.Active))
            {
                // The weighted terms summed every running row; take out those that do not count.
                var uncounted = context.Active.logical_and(rows.logical_not());
                if (uncounted.any().item<bool>())
                {
                    AddTo(terms, ParameterTermOfRows(context, uncounted, context.Dt, weighted, stageTime), -1);
                }
            }

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
            Finished();
            foreach (var evaluation in evaluations.Values)
            {
                evaluation.Dispose();
            }

            evaluations.Clear();
        }

        private void Remember(Tensor state, Tensor? slope, Tensor adjoint, Tensor[]? terms, int step)
        {
            if (evaluations.Remove(state, out var earlier))
            {
                earlier.Dispose();
            }

            foreach (var term in terms ?? [])
            {
                term.DetachFromDisposeScope();
            }

            evaluations[state] = new Evaluation(slope?.DetachFromDisposeScope(), adjoint.DetachFromDisposeScope(), terms, step);
        }

        private static void AddTo(Tensor[] terms, Tensor[] more, double sign)
        {
            for (var p = 0; p < terms.Length; p++)
            {
                terms[p].add_(more[p], sign);
            }
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

        // A retained evaluation: the slope with its graph (null when the graph was not kept) and the adjoint it was
        // evaluated with (the cotangent's base), and, when it was evaluated within step number `Step`, its parameter
        // terms Σᵣ dtᵣ·aᵣᵀ ∂f/∂θ over that step's running rows.
        private readonly record struct Evaluation(Tensor? Slope, Tensor Adjoint, Tensor[]? Terms, int Step) : IDisposable
        {
            public void Dispose()
            {
                Slope?.Dispose();
                Adjoint.Dispose();
                foreach (var term in Terms ?? [])
                {
                    term.Dispose();
                }
            }
        }

        // The cotangent weights of the step being evaluated: ρ = dt / Scale on running rows (0 elsewhere), the divisor
        // that takes them out of the state's part again (ρ, or 1 where ρ is 0), and Scale = max |dt| over running rows.
        private sealed record Weighting(int Step, Tensor Rho, Tensor Divisor, double Scale) : IDisposable
        {
            public void Dispose()
            {
                Rho.Dispose();
                Divisor.Dispose();
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
            (incrementWeights, errorWeights) = StageWeights(tableau);
        }

        public IStepObserver SeminormOnly() => new Seminorm(this);

        public void Starting(StepStart start) => augmented.Starting(start);

        public void Evaluating(int stage) => augmented.Evaluating(stage);

        // The stages whose parameter terms are asked for: those of the increment, and with a full norm those of its error.
        public static bool[] WeightedStages(ButcherTableau tableau, bool fullNorm)
        {
            var (increment, error) = StageWeights(tableau);
            var weighted = new bool[tableau.Stages];
            foreach (var (stage, _) in fullNorm ? increment.Concat(error) : increment)
            {
                weighted[stage] = true;
            }

            return weighted;
        }

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

            augmented.Finished();
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

            augmented.Finished();
            augmented.Forget(context.Step, context.Y);
        }

        // The nonzero weights −bᵢ of the increment and −(bᵢ − b̂ᵢ) of its error estimate (none without b̂), by stage.
        private static ((int Stage, double Weight)[] Increment, (int Stage, double Weight)[] Error) StageWeights(ButcherTableau tableau)
        {
            (int Stage, double Weight)[] Nonzero(Func<int, double> weight) =>
                [.. Enumerable.Range(0, tableau.Stages).Where(i => weight(i) != 0).Select(i => (i, -weight(i)))];
            return (Nonzero(i => tableau.B[i].Value), tableau.BHat is { } bHat ? Nonzero(i => tableau.B[i].Value - bHat[i].Value) : []);
        }

        // Stage i's time as the generated step computes it, t + cᵢ·dt (only needed for a stage evaluated again).
        private Tensor StageTime(StepContext context, int stage) =>
            stage == 0 ? context.T : context.T.add(context.Dt, tableau.C[stage].Value);

        private sealed class Seminorm(ParameterGradientObserver owner) : IStepObserver
        {
            public void Starting(StepStart start) => owner.Starting(start);

            public void Evaluating(int stage) => owner.Evaluating(stage);

            public (Tensor SumOfSquares, long Count)? ErrorContribution(StepContext context) => null;

            public void Accepted(StepContext context, Tensor accept) => owner.AcceptRows(context, accept);
        }
    }
}
