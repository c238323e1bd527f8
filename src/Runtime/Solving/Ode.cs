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
public static class Ode
{
    /// <summary>Solves with the scheme given as a type argument.</summary>
    /// <typeparam name="TScheme">A generated scheme type, for example <c>Fehlberg45.Method</c>.</typeparam>
    /// <param name="f">The dynamics: <c>t</c> <c>[B]</c> (each row's own time) and <c>y</c> <c>[B, ...]</c> to
    /// dy/dt of <c>y</c>'s shape. It must return a new tensor (never <c>y</c> itself or a tensor it keeps).</param>
    /// <param name="y0">The initial states, <c>[B, ...]</c>, floating point.</param>
    /// <param name="t0">The start time.</param>
    /// <param name="t1">The end time; may be less than <paramref name="t0"/> to integrate backwards.</param>
    /// <param name="options">How to solve; default adaptive with rtol 1e-3, atol 1e-6.</param>
    /// <returns>The solution; the caller disposes it (or a dispose scope around the call does).</returns>
    public static OdeSolution Solve<TScheme>(Func<Tensor, Tensor, Tensor> f, Tensor y0, double t0, double t1, SolverOptions? options = null)
        where TScheme : RungeKuttaScheme, IRungeKuttaScheme<TScheme> =>
        Solve(TScheme.Instance, f, y0, t0, t1, options);

    /// <summary>Solves with the scheme found by name (case-insensitive), for example <c>"dopri5"</c>.</summary>
    /// <param name="scheme">The scheme's name; see <see cref="Schemes.All"/>.</param>
    /// <param name="f">The dynamics, <c>(t [B], y [B, ...]) → dy/dt [B, ...]</c>.</param>
    /// <param name="y0">The initial states, <c>[B, ...]</c>.</param>
    /// <param name="t0">The start time.</param>
    /// <param name="t1">The end time.</param>
    /// <param name="options">How to solve; default adaptive.</param>
    /// <returns>The solution.</returns>
    public static OdeSolution Solve(string scheme, Func<Tensor, Tensor, Tensor> f, Tensor y0, double t0, double t1, SolverOptions? options = null) =>
        Solve(Schemes.Get(scheme), f, y0, t0, t1, options);

    /// <summary>Solves with a dynamics module <c>(t, y) → dy/dt</c>.</summary>
    /// <param name="scheme">The scheme.</param>
    /// <param name="f">The dynamics module; called through <c>call</c>, so hooks run.</param>
    /// <param name="y0">The initial states, <c>[B, ...]</c>.</param>
    /// <param name="t0">The start time.</param>
    /// <param name="t1">The end time.</param>
    /// <param name="options">How to solve; default adaptive.</param>
    /// <returns>The solution.</returns>
    public static OdeSolution Solve(RungeKuttaScheme scheme, nn.Module<Tensor, Tensor, Tensor> f, Tensor y0, double t0, double t1, SolverOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(f);
        return Solve(scheme, f.call, y0, t0, t1, options);
    }

    /// <summary>Solves a batch of initial-value problems.</summary>
    /// <param name="scheme">The scheme; adaptive solves need one with embedded weights.</param>
    /// <param name="f">The dynamics, <c>(t [B], y [B, ...]) → dy/dt [B, ...]</c>.</param>
    /// <param name="y0">The initial states, <c>[B, ...]</c>, floating point, on the device to solve on.</param>
    /// <param name="t0">The start time, finite.</param>
    /// <param name="t1">The end time, finite.</param>
    /// <param name="options">How to solve; default adaptive with rtol 1e-3, atol 1e-6.</param>
    /// <returns>The solution: final states, states at output times, per-row status and statistics.</returns>
    /// <exception cref="ArgumentException">An argument is invalid (shape, dtype, device, tolerance, times).</exception>
    /// <exception cref="OdeSolverException">Rows failed and <see cref="SolverOptions.ThrowOnFailure"/> is set.</exception>
    /// <exception cref="InvalidOperationException">The dynamics returned a tensor of the wrong shape, dtype or device.</exception>
    public static OdeSolution Solve(RungeKuttaScheme scheme, Func<Tensor, Tensor, Tensor> f, Tensor y0, double t0, double t1, SolverOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(f);
        return Solve(scheme, (t, y, _) => f(t, y), y0, t0, t1, options, observer: null);
    }

    /// <summary>
    /// Solves a batch whose dynamics depend on the row: <c>f(t, y, rows)</c> also receives the index of each row
    /// in the original batch (<c>[B']</c>, int64), because once rows finish the solver evaluates only the running
    /// ones. Use it for per-row parameters, e.g. <c>(t, y, rows) =&gt; y.mul(rates.index_select(0, rows).unsqueeze(1)).neg()</c>.
    /// </summary>
    /// <param name="scheme">The scheme.</param>
    /// <param name="f">The dynamics: <c>t</c> <c>[B']</c>, <c>y</c> <c>[B', ...]</c> and <c>rows</c> <c>[B']</c> to dy/dt <c>[B', ...]</c>.</param>
    /// <param name="y0">The initial states, <c>[B, ...]</c>.</param>
    /// <param name="t0">The start time.</param>
    /// <param name="t1">The end time.</param>
    /// <param name="options">How to solve; default adaptive.</param>
    /// <returns>The solution.</returns>
    public static OdeSolution Solve(RungeKuttaScheme scheme, Func<Tensor, Tensor, Tensor, Tensor> f, Tensor y0, double t0, double t1, SolverOptions? options = null) =>
        Solve(scheme, f, y0, t0, t1, options, observer: null);

    /// <summary>Solves per-row dynamics <c>f(t, y, rows)</c> with the scheme found by name.</summary>
    /// <param name="scheme">The scheme's name.</param>
    /// <param name="f">The dynamics with the rows' indices in the batch.</param>
    /// <param name="y0">The initial states, <c>[B, ...]</c>.</param>
    /// <param name="t0">The start time.</param>
    /// <param name="t1">The end time.</param>
    /// <param name="options">How to solve; default adaptive.</param>
    /// <returns>The solution.</returns>
    public static OdeSolution Solve(string scheme, Func<Tensor, Tensor, Tensor, Tensor> f, Tensor y0, double t0, double t1, SolverOptions? options = null) =>
        Solve(Schemes.Get(scheme), f, y0, t0, t1, options, observer: null);

    // The entry point with an observer, for solvers built on this one (the adjoint).
    internal static OdeSolution Solve(RungeKuttaScheme scheme, Func<Tensor, Tensor, Tensor, Tensor> f, Tensor y0, double t0, double t1, SolverOptions? options, IStepObserver? observer)
    {
        ArgumentNullException.ThrowIfNull(scheme);
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(y0);
        options ??= new SolverOptions();
        Validate(scheme, y0, t0, t1, options);
        var grid = options.IsAdaptive ? null : FixedGrid(t0, t1, options);

        using var scope = NewDisposeScope();
        var outputRows = OutputTimesPerRow(y0, t0, t1, options.OutputTimes);
        OdeSolution solution;
        using (var solver = new BatchSolver(scheme, f, y0, t0, t1, options, grid, outputRows, observer))
        {
            solution = solver.Run(options.OutputTimes);
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
                .Where(static f => f.Status != SolverStatus.Success)
                .ToList();
            throw new OdeSolverException(failures);
        }

        return solution;
    }

    private static void Validate(RungeKuttaScheme scheme, Tensor y0, double t0, double t1, SolverOptions options)
    {
        if (y0.IsInvalid)
        {
            throw new ArgumentException("y0 has been disposed.", nameof(y0));
        }

        if (y0.dim() < 1 || y0.shape[0] < 1)
        {
            throw new ArgumentException($"y0 must have a batch dimension, [B, ...] with B ≥ 1; got shape [{string.Join(", ", y0.shape)}].", nameof(y0));
        }

        if (!y0.is_floating_point())
        {
            throw new ArgumentException($"y0 must be floating point (float32 or float64); got {y0.dtype}.", nameof(y0));
        }

        if (!double.IsFinite(t0) || !double.IsFinite(t1))
        {
            throw new ArgumentException($"t0 and t1 must be finite; got t0 = {t0}, t1 = {t1}.");
        }

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

        if (options.IsAdaptive)
        {
            ValidateTolerance(options.RelativeTolerance, "RelativeTolerance");
            ValidateTolerance(options.AbsoluteTolerance, "AbsoluteTolerance");
            ValidateToleranceRows(options.RelativeToleranceRows, y0, "RelativeToleranceRows");
            ValidateToleranceRows(options.AbsoluteToleranceRows, y0, "AbsoluteToleranceRows");
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
        }

        if (!(options.CompactionThreshold >= 0 && options.CompactionThreshold <= 1))
        {
            throw new ArgumentException($"CompactionThreshold must be in [0, 1]; got {options.CompactionThreshold}.", nameof(options));
        }
    }

    internal static bool SameDevice(Tensor a, Tensor b) =>
        a.device_type == b.device_type && (a.device_type == DeviceType.CPU || a.device_index == b.device_index);

    private static void ValidateTolerance(double value, string name)
    {
        if (!(value > 0 && double.IsFinite(value)))
        {
            throw new ArgumentException($"{name} must be positive and finite; got {value}.", "options");
        }
    }

    private static void ValidateToleranceRows(Tensor? rows, Tensor y0, string name)
    {
        if (rows is null)
        {
            return;
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
        if (!rows.isfinite().all().item<bool>() || !rows.gt(0).all().item<bool>())
        {
            throw new ArgumentException($"{name} must be positive and finite in every row.", "options");
        }
    }

    private static double[] FixedGrid(double t0, double t1, SolverOptions options)
    {
        var span = t1 - t0;
        int steps;
        if (options.Steps is int n)
        {
            steps = n;
        }
        else
        {
            var count = Math.Ceiling(Math.Abs(span) / options.Dt!.Value * (1 - 1e-12));
            if (count > options.MaxSteps)
            {
                throw new ArgumentException(
                    $"Dt = {options.Dt} needs {count} steps over [{t0}, {t1}], more than MaxSteps = {options.MaxSteps}; raise MaxSteps or Dt.",
                    nameof(options));
            }

            steps = Math.Max(1, (int)count);
        }

        var grid = new double[steps + 1];
        for (var k = 0; k < steps; k++)
        {
            grid[k] = options.Steps is not null
                ? t0 + span * k / steps
                : t0 + Math.Sign(span) * options.Dt!.Value * k;
        }

        grid[steps] = t1;
        return grid;
    }

    // Validates output times on the CPU and returns them as [B, T] in y0's dtype and device (null when none).
    private static Tensor? OutputTimesPerRow(Tensor y0, double t0, double t1, Tensor? times)
    {
        if (times is null)
        {
            return null;
        }

        var rows = y0.shape[0];
        if (times.IsInvalid)
        {
            throw new ArgumentException("OutputTimes has been disposed.", "options");
        }

        if (!times.is_floating_point())
        {
            throw new ArgumentException($"OutputTimes must be floating point; got {times.dtype}.", "options");
        }

        if (!SameDevice(times, y0))
        {
            throw new ArgumentException($"OutputTimes is on {times.device} but y0 is on {y0.device}.", "options");
        }

        var perRow = times.dim() switch
        {
            1 => false,
            2 when times.shape[0] == rows => true,
            _ => throw new ArgumentException(
                $"OutputTimes must have shape [T] or [B, T] = [{rows}, T]; got [{string.Join(", ", times.shape)}].", "options"),
        };

        var count = times.shape[^1];
        if (count < 1)
        {
            throw new ArgumentException("OutputTimes must hold at least one time.", "options");
        }

        var values = times.detach().cpu().to(ScalarType.Float64).contiguous().data<double>().ToArray();
        var direction = t1 >= t0 ? 1.0 : -1.0;
        var slack = 1e-12 * Math.Max(1.0, Math.Max(Math.Abs(t0), Math.Abs(t1)));
        for (long r = 0; r < (perRow ? rows : 1); r++)
        {
            for (long j = 0; j < count; j++)
            {
                var tau = values[(r * count) + j];
                if (!double.IsFinite(tau) || (tau - t0) * direction < -slack || (t1 - tau) * direction < -slack)
                {
                    throw new ArgumentException($"OutputTimes: time {tau} (row {r}, index {j}) is not inside [{t0}, {t1}].", "options");
                }

                if (j > 0 && (tau - values[(r * count) + j - 1]) * direction < 0)
                {
                    throw new ArgumentException($"OutputTimes must be monotone from t0 to t1; index {j} of row {r} goes back.", "options");
                }
            }
        }

        var result = perRow ? times.detach().to(y0.dtype).clone() : times.detach().to(y0.dtype).unsqueeze(0).expand(rows, count).contiguous();
        return result;
    }
}
