using static TorchSharp.torch;

namespace NeuralOde.Solving;

/// <summary>What a solver does with rows that finished while others still run.</summary>
public enum CompactionMode
{
    /// <summary>Compact when the fraction of running rows falls below <see cref="SolverOptions.CompactionThreshold"/>.</summary>
    Auto,

    /// <summary>Always step only the running rows (gather → step → scatter), every step.</summary>
    Always,

    /// <summary>Never compact: step the whole batch and mask finished rows (fixed shapes, CUDA-graph friendly).</summary>
    Never,
}

/// <summary>
/// How to solve: fixed steps (a number of steps or a step size) or adaptive steps with per-row error control.
/// Create with <see cref="Adaptive"/>, <see cref="FixedSteps"/> or <see cref="FixedDt"/>, then adjust with
/// <c>with { … }</c>.
/// </summary>
public sealed record SolverOptions
{
    /// <summary>Gets the number of equal steps of a fixed-step solve, or null.</summary>
    public int? Steps { get; init; }

    /// <summary>Gets the step size of a fixed-step solve (the last step is shortened to land on t1), or null.</summary>
    public double? Dt { get; init; }

    /// <summary>Gets whether the solve is adaptive (neither <see cref="Steps"/> nor <see cref="Dt"/> is set).</summary>
    public bool IsAdaptive => Steps is null && Dt is null;

    /// <summary>Gets the relative tolerance of adaptive solves, for every row. Default 1e-3.</summary>
    public double RelativeTolerance { get; init; } = 1e-3;

    /// <summary>Gets the absolute tolerance of adaptive solves, for every row. Default 1e-6.</summary>
    public double AbsoluteTolerance { get; init; } = 1e-6;

    /// <summary>Gets per-row relative tolerances <c>[B]</c> that replace <see cref="RelativeTolerance"/>, or null.</summary>
    public Tensor? RelativeToleranceRows { get; init; }

    /// <summary>Gets per-row absolute tolerances <c>[B]</c> that replace <see cref="AbsoluteTolerance"/>, or null.</summary>
    public Tensor? AbsoluteToleranceRows { get; init; }

    /// <summary>Gets the step-size controller. Default: integral control with safety 0.9 and factor in [0.2, 10].</summary>
    public StepSizeController Controller { get; init; } = StepSizeController.Integral;

    /// <summary>Gets the first step's size (magnitude), or null to choose it per row by Hairer–Nørsett–Wanner (II.4).</summary>
    public double? InitialStep { get; init; }

    /// <summary>Gets each row's first step magnitude <c>[B]</c> (by global row, on the host), or null. Used in place of
    /// the estimate (and of <see cref="InitialStep"/>) when every running row's entry is finite and positive: the
    /// adjoint seeds its backward solve with the forward solve's last proposals.</summary>
    internal double[]? InitialSteps { get; init; }

    /// <summary>Gets the smallest step magnitude; a row whose error is not met at this step ends with
    /// <see cref="SolverStatus.ReachedDtMin"/>. Default 0 (only the floating-point limit).</summary>
    public double DtMin { get; init; }

    /// <summary>Gets the largest step magnitude. Default: unbounded.</summary>
    public double DtMax { get; init; } = double.PositiveInfinity;

    /// <summary>Gets the most steps (accepted and rejected) a row may attempt. Default 10 000.</summary>
    public int MaxSteps { get; init; } = 10_000;

    /// <summary>Gets how finished rows are taken out of the work. Default <see cref="CompactionMode.Auto"/>.</summary>
    public CompactionMode Compaction { get; init; } = CompactionMode.Auto;

    /// <summary>Gets the running fraction below which <see cref="CompactionMode.Auto"/> compacts. Default 0.8:
    /// measured on CPU, gathering pays once 10–20 % of rows are done.</summary>
    public double CompactionThreshold { get; init; } = 0.8;

    /// <summary>Gets whether all rows share one step size, as torchdiffeq does: the error norm is the RMS over every
    /// element of the running rows and the whole batch accepts or rejects together. Default false (per-row steps);
    /// useful for comparisons and when rows must stay on one time grid.</summary>
    public bool SharedStepSize { get; init; }

    /// <summary>Gets the most rows a stream keeps in its work set (<see cref="Ode.SolveStream(NeuralOde.Stepping.RungeKuttaScheme, Func{TorchSharp.torch.Tensor, TorchSharp.torch.Tensor, TorchSharp.torch.Tensor, TorchSharp.torch.Tensor}, IEnumerable{TorchSharp.torch.Tensor}, double, double, SolverOptions?)"/>);
    /// null for <see cref="Ode.DefaultMaxRowsInFlight"/>. A single solve holds all its rows and rejects this option.</summary>
    public int? MaxRowsInFlight { get; init; }

    /// <summary>Gets a value indicating whether the error norm is reduced with tensor operations and copied to the
    /// host, as on a device other than the CPU, even for CPU tensors (so that tests cover that path).</summary>
    internal bool ControlOnDevice { get; init; }

    /// <summary>Gets the output times: <c>[T]</c> shared by all rows or <c>[B, T]</c> per row, monotone in the
    /// direction of integration and inside [t0, t1]; or null for the final state only.</summary>
    public Tensor? OutputTimes { get; init; }

    /// <summary>Gets a terminal event: each row stops at the first zero crossing of its event function (status
    /// <see cref="SolverStatus.Event"/>), or null for none. Output times after a row's event stay NaN.</summary>
    public EventFunction? Event { get; init; }

    /// <summary>Gets whether a row that does not end in <see cref="SolverStatus.Success"/> makes the solve throw
    /// <see cref="OdeSolverException"/> (naming the rows). Default false: statuses are reported per row.</summary>
    public bool ThrowOnFailure { get; init; }

    /// <summary>Creates adaptive options.</summary>
    /// <param name="rtol">The relative tolerance.</param>
    /// <param name="atol">The absolute tolerance.</param>
    /// <returns>The options.</returns>
    public static SolverOptions Adaptive(double rtol = 1e-3, double atol = 1e-6) =>
        new() { RelativeTolerance = rtol, AbsoluteTolerance = atol };

    /// <summary>Creates fixed-step options with <paramref name="steps"/> equal steps.</summary>
    /// <param name="steps">The number of steps, at least 1.</param>
    /// <returns>The options.</returns>
    public static SolverOptions FixedSteps(int steps) => new() { Steps = steps };

    /// <summary>Creates fixed-step options with step size <paramref name="dt"/>.</summary>
    /// <param name="dt">The step magnitude; the last step is shortened to land on t1.</param>
    /// <returns>The options.</returns>
    public static SolverOptions FixedDt(double dt) => new() { Dt = dt };
}
