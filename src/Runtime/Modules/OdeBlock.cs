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
/// state (or the states at <see cref="OutputTimes"/>); <see cref="Trajectory"/> integrates over a time grid given
/// at call time, shared <c>[T]</c> or per row <c>[B, T]</c>, and returns <c>[B, T, ...]</c>. Gradients by
/// backpropagation through the solver or by the continuous adjoint (<see cref="GradientMode"/>).
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

    /// <summary>Integrates the batch from <see cref="T0"/> to <see cref="T1"/>.</summary>
    /// <param name="y0">The initial states, <c>[B, ...]</c>, in the parameters' dtype and on their device.</param>
    /// <returns>The states at T1, <c>[B, ...]</c>, or at <see cref="OutputTimes"/>, <c>[B, T, ...]</c>.</returns>
    /// <exception cref="ArgumentException">The input does not match the dynamics (shape, dtype, device), or the
    /// output times are invalid.</exception>
    public override Tensor forward(Tensor y0)
    {
        var parameters = CheckInput(y0);
        if (OutputTimes is null)
        {
            var knots = TimeGrid.Shared([T0, T1], y0.shape[0]);
            return Run(new ForwardPlan(knots, FirstOutput: 1, FinalOnly: true, Solve: SolveFinal), y0, parameters);
        }

        var times = OutputTimes;
        CheckOutputTimes(times);
        return Run(new ForwardPlan(TimeGrid.Shared([T0, .. times], y0.shape[0]), FirstOutput: 1, FinalOnly: false, Solve: x => SolveAt(x, times)), y0, parameters);
    }

    /// <summary>
    /// Integrates the batch over a time grid and returns the states at every time of it: torchdiffeq's
    /// <c>odeint(func, y0, t)</c>, but batch first. Each row starts at its first time and ends at its last (the
    /// grid sets the span; <see cref="T0"/>, <see cref="T1"/> and <see cref="OutputTimes"/> are not used), so rows
    /// of an irregularly sampled series can each have their own times, their own span and their own direction.
    /// Gradients flow to <paramref name="y0"/> and the dynamics' parameters (not to the times) with
    /// <see cref="GradientMode.Backprop"/>, <see cref="GradientMode.Adjoint"/> and
    /// <see cref="GradientMode.Checkpointed"/> (which replays each step's outputs with its step).
    /// </summary>
    /// <param name="y0">The states at each row's first time, <c>[B, ...]</c>, in the parameters' dtype and on their
    /// device.</param>
    /// <param name="ts">The times: <c>[T]</c> shared by all rows or <c>[B, T]</c> per row; T ≥ 2, finite, strictly
    /// increasing or strictly decreasing in every row; floating point, on <paramref name="y0"/>'s device.</param>
    /// <returns>The states at the times, <c>[B, T, ...]</c>, with <c>[:, 0]</c> equal to <paramref name="y0"/>.</returns>
    /// <exception cref="ArgumentException">An input is invalid; the message says which and how.</exception>
    /// <exception cref="OdeSolverException">A row failed and <see cref="ThrowOnFailure"/> is set.</exception>
    /// <example>
    /// <code>
    /// var ts = linspace(0, 25, 1000, dtype: ScalarType.Float64);  // [T]
    /// var trajectory = block.Trajectory(y0, ts);                     // [B, T, D]
    /// </code>
    /// </example>
    public Tensor Trajectory(Tensor y0, Tensor ts)
    {
        var parameters = CheckInput(y0);
        var grid = TimeGrid.Read(ts, y0, nameof(ts));
        return Run(new ForwardPlan(grid, FirstOutput: 0, FinalOnly: false, Solve: x => GridSolve.Solve(Scheme, odefunc.call, x, grid, Options)), y0, parameters);
    }

    // One dispatch for every gradient mode: the forward solve is the same, only how gradients flow differs.
    private Tensor Run(ForwardPlan plan, Tensor y0, Tensor[] parameters)
    {
        switch (GradientMode)
        {
            case GradientMode.Backprop:
                return Take(plan, y0);
            case GradientMode.Adjoint:
                if (!is_grad_enabled())
                {
                    return Take(plan, y0);
                }

                if (Options.Event is not null)
                {
                    throw new NotSupportedException("GradientMode.Adjoint does not differentiate events; use Backprop, whose event times and states are differentiable.");
                }

                var problem = new AdjointProblem(
                    odefunc, Scheme, Options, Adjoint, plan, ThrowOnFailure,
                    x => TakeWithNextSteps(plan, x),
                    summary => LastBackward = summary);
                object[] args = [problem, y0, .. parameters.Where(static p => p.requires_grad)];
                return OdeAdjointFunction.apply(args);
            case GradientMode.Checkpointed:
                if (!is_grad_enabled())
                {
                    return Take(plan, y0);
                }

                if (Options.Event is not null)
                {
                    throw new NotSupportedException("GradientMode.Checkpointed does not replay events; use Backprop, whose event times and states are differentiable.");
                }

                var checkpoint = new CheckpointProblem(
                    odefunc, Scheme, Options, plan, ThrowOnFailure, CheckpointEvery,
                    summary => LastForward = summary,
                    summary => LastBackward = summary);
                object[] checkpointArgs = [checkpoint, y0, .. parameters.Where(static p => p.requires_grad)];
                return OdeCheckpointFunction.apply(checkpointArgs);
            default:
                throw new ArgumentException($"GradientMode {GradientMode} is not supported by OdeBlock.", nameof(GradientMode));
        }
    }

    // Solves as planned, records the work, and returns the outputs (final states or states at the times).
    private Tensor Take(ForwardPlan plan, Tensor y0)
    {
        using var solution = plan.Solve(y0);
        LastForward = SolveSummary.From(solution.Stats);
        CheckStatus(solution, ThrowOnFailure);
        return (plan.FinalOnly ? solution.Y : solution.Ys!).alias();
    }

    // Take, and each row's next step as the forward solve's controller proposed it (the adjoint's first backward steps).
    private (Tensor Outputs, double[]? NextSteps) TakeWithNextSteps(ForwardPlan plan, Tensor y0)
    {
        using var solution = plan.Solve(y0);
        LastForward = SolveSummary.From(solution.Stats);
        CheckStatus(solution, ThrowOnFailure);
        return ((plan.FinalOnly ? solution.Y : solution.Ys!).alias(), solution.NextSteps);
    }

    private OdeSolution SolveFinal(Tensor y0) => Ode.Solve(Scheme, odefunc.call, y0, T0, T1, Options);

    private OdeSolution SolveAt(Tensor y0, double[] times)
    {
        using var outputs = tensor(times, dtype: ScalarType.Float64, device: y0.device);
        return Ode.Solve(Scheme, odefunc.call, y0, T0, T1, Options with { OutputTimes = outputs });
    }

    private void CheckOutputTimes(double[] times)
    {
        if (times.Length == 0)
        {
            throw new ArgumentException("OdeBlock.OutputTimes must hold at least one time (or be null for the final state).", nameof(OutputTimes));
        }
    }

    // Checks what the solver cannot name well (libtorch would fail deep inside the dynamics): the input against the
    // dynamics' parameters. Returns the parameters.
    private Tensor[] CheckInput(Tensor y0)
    {
        ArgumentNullException.ThrowIfNull(y0);
        if (y0.IsInvalid)
        {
            throw new ArgumentException("y0 has been disposed.", nameof(y0));
        }

        if (!y0.is_floating_point())
        {
            throw new ArgumentException($"y0 must be floating point (float32 or float64); got {y0.dtype}.", nameof(y0));
        }

        if (y0.dim() < 1 || y0.shape[0] < 1)
        {
            throw new ArgumentException($"y0 must have a batch dimension, [B, ...] with B ≥ 1; got shape [{string.Join(", ", y0.shape)}].", nameof(y0));
        }

        var parameters = odefunc.parameters().ToArray();
        foreach (var p in parameters)
        {
            if (!Ode.SameDevice(p, y0))
            {
                throw new ArgumentException($"The input is on {y0.device} but the dynamics' parameters are on {p.device}; move one with .to(device).", nameof(y0));
            }

            if (p.is_floating_point() && p.dtype != y0.dtype)
            {
                throw new ArgumentException(
                    $"The input is {Name(y0.dtype)} but the dynamics' parameters are {Name(p.dtype)}; convert the block with .to(ScalarType.{y0.dtype}) or the input with .to(ScalarType.{p.dtype}).",
                    nameof(y0));
            }
        }

        return parameters;
    }

    private static string Name(ScalarType dtype) => dtype.ToString().ToLowerInvariant();

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
