using NeuralOde.Solving;
using NeuralOde.Stepping;
using static TorchSharp.torch;

namespace NeuralOde.Modules;

/// <summary>The work of one solve, summed over the batch.</summary>
/// <param name="Calls">Batched calls of the dynamics (the NFE of a solver without per-row work).</param>
/// <param name="RowEvaluations">Rows evaluated, summed over all calls.</param>
/// <param name="MaxAcceptedSteps">The most accepted steps of any row.</param>
/// <param name="MaxRejectedSteps">The most rejected steps of any row.</param>
public readonly record struct SolveSummary(long Calls, long RowEvaluations, long MaxAcceptedSteps, long MaxRejectedSteps)
{
    /// <summary>Summarizes a solve's per-row statistics.</summary>
    /// <param name="stats">The statistics.</param>
    /// <returns>The summary.</returns>
    public static SolveSummary From(SolverStats stats)
    {
        ArgumentNullException.ThrowIfNull(stats);
        using var scope = NewDisposeScope();
        return new(stats.Calls, stats.RowEvaluations, stats.AcceptedSteps.max().item<long>(), stats.RejectedSteps.max().item<long>());
    }

    /// <summary>Adds two summaries (for solves run one after another).</summary>
    /// <param name="other">The other summary.</param>
    /// <returns>The sum.</returns>
    public SolveSummary Add(SolveSummary other) =>
        new(Calls + other.Calls, RowEvaluations + other.RowEvaluations, MaxAcceptedSteps + other.MaxAcceptedSteps, MaxRejectedSteps + other.MaxRejectedSteps);
}

/// <summary>
/// A neural-ODE layer: integrates its dynamics from <see cref="T0"/> to <see cref="T1"/> and returns the final
/// state (or the states at <see cref="OutputTimes"/>). Gradients by backpropagation through the solver or by the
/// continuous adjoint (<see cref="GradientMode"/>).
/// </summary>
/// <remarks>
/// State-dict keys are the dynamics' under <c>odefunc.</c>. A row that does not reach <see cref="T1"/> (see
/// <see cref="SolverStatus"/>) makes the forward pass throw unless <see cref="ThrowOnFailure"/> is false, in
/// which case the row's last accepted state is returned.
/// </remarks>
public sealed class OdeBlock : nn.Module<Tensor, Tensor>
{
    private readonly OdeFunc odefunc;
    private int checkpointEvery = 1;

    /// <summary>Creates the block.</summary>
    /// <param name="odefunc">The dynamics.</param>
    /// <param name="scheme">The Runge–Kutta scheme.</param>
    /// <param name="options">Fixed or adaptive solver options; default adaptive (rtol 1e-3, atol 1e-6).</param>
    /// <param name="t0">The start time.</param>
    /// <param name="t1">The end time.</param>
    /// <param name="gradientMode">How gradients are computed.</param>
    public OdeBlock(OdeFunc odefunc, RungeKuttaScheme scheme, SolverOptions? options = null, double t0 = 0.0, double t1 = 1.0, GradientMode gradientMode = GradientMode.Backprop)
        : base(nameof(OdeBlock))
    {
        ArgumentNullException.ThrowIfNull(odefunc);
        ArgumentNullException.ThrowIfNull(scheme);
        if (!double.IsFinite(t0) || !double.IsFinite(t1))
        {
            throw new ArgumentException($"t0 and t1 must be finite; got {t0} and {t1}.");
        }

        options ??= new SolverOptions();
        if (options.OutputTimes is not null)
        {
            throw new ArgumentException("Set OdeBlock.OutputTimes instead of SolverOptions.OutputTimes.", nameof(options));
        }

        this.odefunc = odefunc;
        Scheme = scheme;
        Options = options;
        T0 = t0;
        T1 = t1;
        GradientMode = gradientMode;
        RegisterComponents();
    }

    /// <summary>Gets the dynamics.</summary>
    public OdeFunc Dynamics => odefunc;

    /// <summary>Gets or sets the scheme.</summary>
    public RungeKuttaScheme Scheme { get; set; }

    /// <summary>Gets or sets the solver options (without output times).</summary>
    public SolverOptions Options { get; set; }

    /// <summary>Gets or sets the start time.</summary>
    public double T0 { get; set; }

    /// <summary>Gets or sets the end time.</summary>
    public double T1 { get; set; }

    /// <summary>Gets or sets how gradients are computed.</summary>
    public GradientMode GradientMode { get; set; }

    /// <summary>Gets or sets the adjoint's backward-solve options.</summary>
    public AdjointOptions Adjoint { get; set; } = new();

    /// <summary>Gets or sets how many solver iterations share one stored checkpoint in
    /// <see cref="GradientMode.Checkpointed"/>: 1 (default) stores every accepted step's start state; k &gt; 1 stores
    /// the batch's state every k iterations and recomputes the steps in between during the backward pass, so memory
    /// is about B·D per k iterations plus one segment's steps, for one more forward evaluation of each step.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public int CheckpointEvery
    {
        get => checkpointEvery;
        set => checkpointEvery = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "CheckpointEvery must be at least 1.");
    }

    /// <summary>Gets or sets times in [T0, T1] (monotone) at which to return the states: forward then returns
    /// <c>[B, T, ...]</c> instead of the final state. Null (default) for the final state only.</summary>
    public double[]? OutputTimes { get; set; }

    /// <summary>Gets or sets whether a row that fails to reach T1 makes the forward (or backward) pass throw.
    /// Default true: a layer should not silently return a stale state.</summary>
    public bool ThrowOnFailure { get; set; } = true;

    /// <summary>Gets the work of the last forward solve.</summary>
    public SolveSummary LastForward { get; private set; }

    /// <summary>Gets the work of the last backward pass (adjoint and checkpointed modes; zero for backprop, whose
    /// backward pass replays the recorded graph without evaluating the dynamics).</summary>
    public SolveSummary LastBackward { get; private set; }

    /// <summary>Integrates the batch.</summary>
    /// <param name="y0">The initial states, <c>[B, ...]</c>.</param>
    /// <returns>The states at T1, <c>[B, ...]</c>, or at <see cref="OutputTimes"/>, <c>[B, T, ...]</c>.</returns>
    public override Tensor forward(Tensor y0)
    {
        ArgumentNullException.ThrowIfNull(y0);
        var parameters = odefunc.parameters().ToArray();
        foreach (var p in parameters)
        {
            if (!Ode.SameDevice(p, y0))
            {
                throw new ArgumentException($"The input is on {y0.device} but the dynamics' parameters are on {p.device}; move one with .to(device).", nameof(y0));
            }
        }

        if (GradientMode == GradientMode.Adjoint && is_grad_enabled())
        {
            var problem = new AdjointProblem(
                odefunc, Scheme, Options, Adjoint, T0, T1, OutputTimes, ThrowOnFailure,
                summary => LastForward = summary,
                summary => LastBackward = summary);
            object[] args = [problem, y0, .. parameters.Where(static p => p.requires_grad)];
            return OdeAdjointFunction.apply(args);
        }

        if (GradientMode == GradientMode.Checkpointed && is_grad_enabled())
        {
            if (OutputTimes is not null)
            {
                throw new NotSupportedException("GradientMode.Checkpointed returns final states only; use Backprop or Adjoint with OutputTimes.");
            }

            if (Options.Event is not null)
            {
                throw new NotSupportedException("GradientMode.Checkpointed does not replay events; use Backprop, whose event times and states are differentiable.");
            }

            var problem = new CheckpointProblem(
                odefunc, Scheme, Options, T0, T1, ThrowOnFailure, CheckpointEvery,
                summary => LastForward = summary,
                summary => LastBackward = summary);
            object[] args = [problem, y0, .. parameters.Where(static p => p.requires_grad)];
            return OdeCheckpointFunction.apply(args);
        }

        var options = OutputTimes is null ? Options : Options with { OutputTimes = tensor(OutputTimes, dtype: y0.dtype, device: y0.device) };
        using var solution = Ode.Solve(Scheme, odefunc.call, y0, T0, T1, options);
        LastForward = SolveSummary.From(solution.Stats);
        CheckStatus(solution, ThrowOnFailure);
        return (OutputTimes is null ? solution.Y : solution.Ys!).alias();
    }

    internal static void CheckStatus(OdeSolution solution, bool throwOnFailure)
    {
        if (!throwOnFailure || solution.Succeeded)
        {
            return;
        }

        var failures = solution.Statuses
            .Select(static (s, row) => (Row: row, Status: s))
            .Where(static f => f.Status is not (SolverStatus.Success or SolverStatus.Event))
            .ToList();
        throw new OdeSolverException(failures);
    }
}
