using NeuralOde.Stepping;
using TorchSharp;
using static TorchSharp.torch;

namespace NeuralOde.Solving;

/// <summary>
/// Solves batches of initial-value problems <c>dy/dt = f(t, y)</c>, <c>y(t0) = y0</c>, with any generated
/// Runge–Kutta scheme: fixed steps, or adaptive steps where every row keeps its own clock, step size and status.
/// </summary>
/// <example>
/// <code>
/// using var solution = Ode.Solve&lt;DormandPrince54.Method&gt;((t, y) =&gt; y.neg(), y0, 0.0, 1.0, SolverOptions.Adaptive(1e-6, 1e-9));
/// // solution.Y: [B, D] at t = 1; solution.Status: [B]; solution.Stats.FunctionEvaluations: [B]
/// </code>
/// </example>
public static partial class Ode
{
    // The entry point with an observer and one span for all rows, for solvers built on this one (the adjoint).
    internal static OdeSolution Solve(RungeKuttaScheme scheme, Func<Tensor, Tensor, Tensor, Tensor> f, Tensor y0, double t0, double t1, SolverOptions? options, IStepObserver? observer) =>
        Solve(scheme, f, y0, (y, o) => SolveTimes.Scalar(y, t0, t1, o.OutputTimes), options, observer);

    // The entry point with an observer and a span per row ([B] each), for solvers built on this one.
    internal static OdeSolution Solve(RungeKuttaScheme scheme, Func<Tensor, Tensor, Tensor, Tensor> f, Tensor y0, Tensor t0, Tensor t1, SolverOptions? options, IStepObserver? observer) =>
        Solve(scheme, f, y0, (y, o) => SolveTimes.Rows(y, t0, t1, o.OutputTimes), options, observer);

    // The one solve every overload ends in: checks the arguments, lays out the times per row, runs the loop and
    // hands the solution to the caller's dispose scope.
    private static OdeSolution Solve(
        RungeKuttaScheme scheme,
        Func<Tensor, Tensor, Tensor, Tensor> f,
        Tensor y0,
        Func<Tensor, SolverOptions, SolveTimes> times,
        SolverOptions? options,
        IStepObserver? observer)
    {
        ArgumentNullException.ThrowIfNull(scheme);
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(y0);
        options ??= new SolverOptions();
        ValidateState(y0);
        ValidateOptions(scheme, y0, options);
        if (options.MaxRowsInFlight is not null)
        {
            throw new ArgumentException("MaxRowsInFlight applies to a stream of batches (Ode.SolveStream); a single solve holds all its rows.", nameof(options));
        }

        using var scope = NewDisposeScope();
        var solveTimes = times(y0, options);
        var plan = options.IsAdaptive ? null : FixedStepPlan.Create(options, solveTimes.Spans);
        OdeSolution solution;
        using (var solver = new BatchSolver(scheme, f, y0, solveTimes.T0, solveTimes.T1, options, plan, solveTimes.Outputs, observer))
        {
            solution = solver.Run(solveTimes.Requested);
        }

        // Hand the solution to the caller's dispose scope, if it has one.
        scope.Attach(solution.Tensors);
        scope.MoveToOuter(solution.Tensors);

        if (options.ThrowOnFailure && !solution.Succeeded)
        {
            var statuses = solution.Statuses;
            solution.Dispose();
            var failures = statuses
                .Select(static (s, row) => (Row: row, Status: s))
                .Where(static f => f.Status is not (SolverStatus.Success or SolverStatus.Event))
                .ToList();
            throw new OdeSolverException(failures);
        }

        return solution;
    }

    internal static bool SameDevice(Tensor a, Tensor b) =>
        a.device_type == b.device_type && (a.device_type == DeviceType.CPU || a.device_index == b.device_index);

    // f(t, y) as f(t, y, rows).
    private static Func<Tensor, Tensor, Tensor, Tensor> Rows(Func<Tensor, Tensor, Tensor> f)
    {
        ArgumentNullException.ThrowIfNull(f);
        return (t, y, _) => f(t, y);
    }

    private static Func<Tensor, Tensor, Tensor, Tensor> Rows(nn.Module<Tensor, Tensor, Tensor> f)
    {
        ArgumentNullException.ThrowIfNull(f);
        return (t, y, _) => f.call(t, y);
    }

    private static void ValidateState(Tensor y0)
    {
        if (y0.IsInvalid)
        {
            throw new ArgumentException("y0 has been disposed.", nameof(y0));
        }

        if (y0.dim() < 1 || y0.shape[0] < 1)
        {
            throw new ArgumentException($"y0 must have a batch dimension, [B, ...] with B ≥ 1; got shape [{string.Join(", ", y0.shape)}].", nameof(y0));
        }

        if (y0.numel() == 0)
        {
            throw new ArgumentException($"y0 must have at least one element per row; got shape [{string.Join(", ", y0.shape)}].", nameof(y0));
        }

        if (y0.dtype is not (ScalarType.Float32 or ScalarType.Float64))
        {
            var why = y0.is_floating_point()
                ? " (half precision cannot hold the solver's error control: convert with y0.to(float32) and back)"
                : string.Empty;
            throw new ArgumentException($"y0 must be float32 or float64; got {y0.dtype}{why}.", nameof(y0));
        }
    }

    // Every option is checked in every mode, whether the mode uses it or not: an invalid value is never accepted.
    private static void ValidateOptions(RungeKuttaScheme scheme, Tensor y0, SolverOptions options)
    {
        if (options.Steps is not null && options.Dt is not null)
        {
            throw new ArgumentException("Give either Steps or Dt for a fixed-step solve, not both.", nameof(options));
        }

        if (options.Steps is int steps && steps < 1)
        {
            throw new ArgumentException($"Steps must be at least 1; got {steps}.", nameof(options));
        }

        if (options.Dt is double fixedDt && !(fixedDt > 0 && double.IsFinite(fixedDt)))
        {
            throw new ArgumentException($"Dt must be positive and finite (its sign follows t0 → t1); got {fixedDt}.", nameof(options));
        }

        if (options.IsAdaptive && !scheme.HasErrorEstimate)
        {
            throw new ArgumentException(
                $"The scheme '{scheme.Name}' has no embedded error estimate, so it cannot adapt its steps; give Steps or Dt, or pick a scheme with BHat such as DOPRI5.",
                nameof(options));
        }

        if (options.MaxSteps < 1)
        {
            throw new ArgumentException($"MaxSteps must be at least 1; got {options.MaxSteps}.", nameof(options));
        }

        if (!(options.RelativeTolerance > 0 && double.IsFinite(options.RelativeTolerance)))
        {
            throw new ArgumentException($"RelativeTolerance must be positive and finite; got {options.RelativeTolerance}.", nameof(options));
        }

        if (!(options.AbsoluteTolerance >= 0 && double.IsFinite(options.AbsoluteTolerance)))
        {
            throw new ArgumentException($"AbsoluteTolerance must be finite and non-negative (0 is pure relative control); got {options.AbsoluteTolerance}.", nameof(options));
        }

        ValidateToleranceRows(options.RelativeToleranceRows, y0, "RelativeToleranceRows", allowZero: false);
        ValidateToleranceRows(options.AbsoluteToleranceRows, y0, "AbsoluteToleranceRows", allowZero: true);
        options.Controller.Validate();
        if (!(options.DtMin >= 0 && double.IsFinite(options.DtMin)))
        {
            throw new ArgumentException($"DtMin must be finite and non-negative; got {options.DtMin}.", nameof(options));
        }

        if (!(options.DtMax > 0) || double.IsNaN(options.DtMax) || options.DtMax < options.DtMin)
        {
            throw new ArgumentException($"DtMax must be positive and at least DtMin; got DtMax = {options.DtMax}, DtMin = {options.DtMin}.", nameof(options));
        }

        if (options.InitialStep is double h0 && !(h0 > 0 && double.IsFinite(h0)))
        {
            throw new ArgumentException($"InitialStep must be positive and finite; got {h0}.", nameof(options));
        }

        if (options.MaxRowsInFlight is int inFlight && inFlight < 1)
        {
            throw new ArgumentException($"MaxRowsInFlight must be at least 1; got {inFlight}.", nameof(options));
        }

        if (!(options.CompactionThreshold >= 0 && options.CompactionThreshold <= 1))
        {
            throw new ArgumentException($"CompactionThreshold must be in [0, 1]; got {options.CompactionThreshold}.", nameof(options));
        }

        if (!Enum.IsDefined(options.Compaction))
        {
            throw new ArgumentException($"Compaction must be Auto, Always or Never; got {(int)options.Compaction}.", nameof(options));
        }
    }

    private static void ValidateToleranceRows(Tensor? rows, Tensor y0, string name, bool allowZero)
    {
        if (rows is null)
        {
            return;
        }

        if (rows.IsInvalid)
        {
            throw new ArgumentException($"{name} has been disposed.", "options");
        }

        if (rows.dim() != 1 || rows.shape[0] != y0.shape[0])
        {
            throw new ArgumentException($"{name} must have shape [B] = [{y0.shape[0]}]; got [{string.Join(", ", rows.shape)}].", "options");
        }

        if (!SameDevice(rows, y0))
        {
            throw new ArgumentException($"{name} is on {rows.device} but y0 is on {y0.device}.", "options");
        }

        if (!rows.is_floating_point())
        {
            throw new ArgumentException($"{name} must be floating point; got {rows.dtype}.", "options");
        }

        using var scope = NewDisposeScope();
        var valid = allowZero ? rows.ge(0) : rows.gt(0);
        if (!rows.isfinite().all().item<bool>() || !valid.all().item<bool>())
        {
            var what = allowZero ? "finite and non-negative" : "positive and finite";
            throw new ArgumentException($"{name} must be {what} in every row.", "options");
        }
    }
}
