using NeuralOde.Solving;
using NeuralOde.Stepping;
using TorchSharp;
using static TorchSharp.torch;

namespace NeuralOde.Modules;

/// <summary>Everything the adjoint needs besides tensors: passed to the autograd function as one object.</summary>
internal sealed record AdjointProblem(
    OdeFunc Dynamics,
    RungeKuttaScheme Scheme,
    SolverOptions Options,
    AdjointOptions Adjoint,
    double T0,
    double T1,
    double[]? OutputTimes,
    bool ThrowOnFailure,
    Action<SolveSummary> OnForward,
    Action<SolveSummary> OnBackward);

/// <summary>
/// The continuous adjoint as a custom autograd function. Forward: an ordinary solve without a graph. Backward: the
/// state and the adjoint <c>a = ∂L/∂y</c> are integrated backwards together with the same scheme
/// (<c>dy/dt = f</c>, <c>da/dt = −aᵀ∂f/∂y</c>), every row with its own step; the parameter gradient
/// <c>∫ aᵀ∂f/∂θ dt</c> is a sum over rows, so it is integrated alongside as a quadrature over each accepted step's
/// stages (the seminorm), or, with a full norm, inside one batch-wide step-size control.
/// </summary>
internal sealed class OdeAdjointFunction : autograd.SingleTensorFunction<OdeAdjointFunction>
{
    public override string Name => nameof(OdeAdjointFunction);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var problem = (AdjointProblem)vars[0];
        var y0 = (Tensor)vars[1];
        var options = problem.Options with
        {
            OutputTimes = problem.OutputTimes is null ? null : tensor(problem.OutputTimes, dtype: y0.dtype, device: y0.device),
        };

        using var solution = Ode.Solve(problem.Scheme, problem.Dynamics.call, y0, problem.T0, problem.T1, options);
        problem.OnForward(SolveSummary.From(solution.Stats));
        OdeBlock.CheckStatus(solution, problem.ThrowOnFailure);
        var result = (problem.OutputTimes is null ? solution.Y : solution.Ys!).detach().clone();
        ctx.save_data("problem", problem);
        ctx.save_for_backward([result]);
        return result;
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
    {
        var problem = (AdjointProblem)ctx.get_data("problem");
        var saved = ctx.get_saved_variables()[0];
        var parameters = problem.Dynamics.parameters().Where(static p => p.requires_grad).ToArray();
        var gradients = parameters.Select(static p => zeros_like(p)).ToArray();
        var summary = new SolveSummary(0, 0, 0, 0);

        Tensor adjoint;
        if (problem.OutputTimes is null)
        {
            adjoint = Segment(problem, saved, gradOutput, problem.T1, problem.T0, parameters, gradients, ref summary);
        }
        else
        {
            // Walk the output times backwards: at each one, reset the state to the forward solve's value and add
            // that output's cotangent to the adjoint.
            var times = problem.OutputTimes;
            adjoint = zeros_like(saved.select(1, 0));
            for (var j = times.Length - 1; j >= 0; j--)
            {
                var until = j > 0 ? times[j - 1] : problem.T0;
                var a = adjoint.add(gradOutput.select(1, j));
                adjoint.Dispose();
                adjoint = Segment(problem, saved.select(1, j), a, times[j], until, parameters, gradients, ref summary);
                a.Dispose();
            }
        }

        problem.OnBackward(summary);
        var result = new List<Tensor> { null!, adjoint };
        result.AddRange(gradients);
        return result;
    }

    // Integrates (y, a) from `from` back to `to`; adds the parameter gradient of the segment to `gradients`.
    private static Tensor Segment(
        AdjointProblem problem,
        Tensor yFrom,
        Tensor aFrom,
        double from,
        double to,
        Tensor[] parameters,
        Tensor[] gradients,
        ref SolveSummary summary)
    {
        if (from == to)
        {
            return aFrom.clone();
        }

        using var scope = NewDisposeScope();
        var rows = yFrom.shape[0];
        var stateShape = yFrom.shape;
        var size = yFrom.numel() / rows;
        var z0 = cat([yFrom.detach().reshape(rows, size), aFrom.detach().reshape(rows, size)], 1);
        var augmented = new AugmentedDynamics(problem.Dynamics, stateShape, size);
        var observer = new ParameterGradientObserver(problem, augmented, parameters, gradients);
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

        using var solution = Ode.Solve(problem.Scheme, (t, z, _) => augmented.Evaluate(t, z), z0, from, to, options, fullNorm ? observer : observer.SeminormOnly());
        OdeBlock.CheckStatus(solution, problem.ThrowOnFailure);
        summary = summary.Add(SolveSummary.From(solution.Stats)).Add(new SolveSummary(observer.Calls, observer.RowEvaluations, 0, 0));
        var adjoint = solution.Y.narrow(1, size, size).reshape(stateShape).clone();
        return adjoint.MoveToOuterDisposeScope();
    }

    // f_aug(t, [y, a]) = [f(t, y), −aᵀ ∂f/∂y], rows flattened: [B, 2N].
    private sealed class AugmentedDynamics(OdeFunc dynamics, long[] stateShape, long size)
    {
        public OdeFunc Dynamics { get; } = dynamics;

        public long Size { get; } = size;

        public Tensor StateOf(Tensor z) => z.narrow(1, 0, Size).reshape(Shape(z.shape[0]));

        public Tensor AdjointOf(Tensor z) => z.narrow(1, Size, Size).reshape(Shape(z.shape[0]));

        public long[] Shape(long rows)
        {
            var shape = (long[])stateShape.Clone();
            shape[0] = rows;
            return shape;
        }

        public Tensor Evaluate(Tensor t, Tensor z)
        {
            using var scope = NewDisposeScope();
            var rows = z.shape[0];
            Tensor slope, vjp;
            using (enable_grad())
            {
                var y = StateOf(z).detach().requires_grad_(true);
                var fy = Dynamics.call(t, y);
                vjp = fy.requires_grad
                    ? autograd.grad([fy], [y], [AdjointOf(z)], allow_unused: true)[0] ?? zeros_like(y)
                    : zeros_like(y);
                slope = fy.detach();
            }

            return cat([slope.reshape(rows, Size), vjp.neg().reshape(rows, Size)], 1).MoveToOuterDisposeScope();
        }
    }

    // Integrates dg/dt = −aᵀ ∂f/∂θ over each accepted step with the step's own stages (a quadrature of the same
    // order as the scheme), summed over rows; with a full norm, also reports its error estimate to the controller.
    private sealed class ParameterGradientObserver(AdjointProblem problem, AugmentedDynamics augmented, Tensor[] parameters, Tensor[] gradients) : IStepObserver
    {
        private Tensor[]? pending;

        public long Calls { get; private set; }

        public long RowEvaluations { get; private set; }

        public IStepObserver SeminormOnly() => new Seminorm(this);

        public (Tensor SumOfSquares, long Count)? ErrorContribution(StepContext context)
        {
            if (parameters.Length == 0)
            {
                return null;
            }

            var tableau = problem.Scheme.Tableau;
            var bHat = tableau.BHat!;
            var increment = Quadrature(context, context.Active, i => tableau.B[i].Value);
            var error = Quadrature(context, context.Active, i => tableau.B[i].Value - bHat[i].Value);
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
            if (parameters.Length == 0 || !accept.any().item<bool>())
            {
                return;
            }

            var tableau = problem.Scheme.Tableau;
            var increment = Quadrature(context, accept, i => tableau.B[i].Value);
            for (var p = 0; p < parameters.Length; p++)
            {
                gradients[p].add_(increment[p]);
            }
        }

        // Σᵢ wᵢ·h·(−aᵢᵀ ∂f/∂θ(tᵢ, yᵢ)) over the selected rows, with all stages in one batched evaluation.
        private Tensor[] Quadrature(StepContext context, Tensor rowsMask, Func<int, double> weight)
        {
            var tableau = problem.Scheme.Tableau;
            var rows = rowsMask.nonzero().squeeze(1);
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

            if (inputs.Count == 0)
            {
                return [.. parameters.Select(static p => zeros_like(p))];
            }

            var all = cat(inputs, 0);
            var state = augmented.StateOf(all).detach();
            var adjoint = augmented.AdjointOf(all);
            var cotangent = adjoint.mul(StepKernels.PerRow(cat(cotangentWeights, 0), adjoint));
            Calls++;
            RowEvaluations += state.shape[0];
            using (enable_grad())
            {
                var fy = augmented.Dynamics.call(cat(times, 0), state);
                if (!fy.requires_grad)
                {
                    return [.. parameters.Select(static p => zeros_like(p))];
                }

                var grads = autograd.grad([fy], parameters, [cotangent], allow_unused: true);
                return [.. grads.Select((g, p) => g ?? zeros_like(parameters[p]))];
            }
        }

        private sealed class Seminorm(ParameterGradientObserver owner) : IStepObserver
        {
            public (Tensor SumOfSquares, long Count)? ErrorContribution(StepContext context) => null;

            public void Accepted(StepContext context, Tensor accept) => owner.AcceptRows(context, accept);
        }
    }
}
