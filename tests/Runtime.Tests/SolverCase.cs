using System.Globalization;
using NeuralOde.Solving;
using static TorchSharp.torch;

namespace NeuralOde.Tests;

/// <summary>
/// One randomly drawn batch of initial-value problems with known solutions: a scheme, a dtype, a span, tolerances,
/// and per row a parameter (λ or ω) and an initial state. The dynamics are rows-aware (<c>f(t, y, rows)</c>), so each
/// row keeps its own parameter when the solver compacts the batch.
/// </summary>
/// <remarks>
/// The dynamics use only +, − and × (no transcendental functions, whose last bit can depend on where a row lands in
/// a vectorized kernel), so a row's arithmetic is the same whatever batch it is solved in, and row-independence can
/// be checked bit for bit. Parameters and initial states are rounded to the case's dtype before the exact solution
/// is computed from them, so the exact solution is that of the problem the solver actually sees.
/// </remarks>
internal sealed record SolverCase
{
    public required string Scheme { get; init; }

    public required ScalarType Dtype { get; init; }

    public required KnownProblem Problem { get; init; }

    public required double T0 { get; init; }

    public required double T1 { get; init; }

    public required double Rtol { get; init; }

    public required double Atol { get; init; }

    /// <summary>Gets λ (decay, relaxation) or ω (oscillator) per row, already rounded to <see cref="Dtype"/>.</summary>
    public required double[] Rates { get; init; }

    /// <summary>Gets each row's initial state, already rounded to <see cref="Dtype"/>.</summary>
    public required double[][] Y0 { get; init; }

    public double? InitialStep { get; init; }

    public CompactionMode Compaction { get; init; } = CompactionMode.Auto;

    public int MaxSteps { get; init; } = 10_000;

    public int Rows => Rates.Length;

    public int Width => Y0[0].Length;

    /// <summary>Gets the machine epsilon of <see cref="Dtype"/>.</summary>
    public double Epsilon => Dtype == ScalarType.Float32 ? 1.1920929e-07 : 2.220446049250313e-16;

    /// <summary>Rounds a value to the case's dtype.</summary>
    public static double Round(double value, ScalarType dtype) => dtype == ScalarType.Float32 ? (float)value : value;

    public SolverOptions Options() => new()
    {
        RelativeTolerance = Rtol,
        AbsoluteTolerance = Atol,
        InitialStep = InitialStep,
        Compaction = Compaction,
        MaxSteps = MaxSteps,
    };

    /// <summary>The case restricted to one row, as if that row had been solved alone.</summary>
    public SolverCase Row(int row) => this with { Rates = [Rates[row]], Y0 = [Y0[row]] };

    /// <summary>Creates the initial states, <c>[B, D]</c> in <see cref="Dtype"/>.</summary>
    public Tensor InitialState()
    {
        var flat = Y0.SelectMany(static r => r).ToArray();
        return tensor(flat, dtype: ScalarType.Float64).reshape(Rows, Width).to(Dtype);
    }

    /// <summary>Creates the rows-aware dynamics; <paramref name="rates"/> is <c>[B]</c> in <see cref="Dtype"/>.</summary>
    public Func<Tensor, Tensor, Tensor, Tensor> Dynamics(Tensor rates) => Problem switch
    {
        KnownProblem.Decay => (t, y, rows) =>
        {
            using var scope = NewDisposeScope();
            return y.mul(rates.index_select(0, rows).unsqueeze(1)).neg().MoveToOuterDisposeScope();
        },
        KnownProblem.Oscillator => (t, y, rows) =>
        {
            using var scope = NewDisposeScope();
            var omega = rates.index_select(0, rows).unsqueeze(1);
            var x = y.narrow(1, 0, 1);
            var v = y.narrow(1, 1, 1);
            return cat([v, x.mul(omega.mul(omega)).neg()], 1).MoveToOuterDisposeScope();
        },
        _ => (t, y, rows) =>
        {
            using var scope = NewDisposeScope();
            return y.sub(t.unsqueeze(1)).mul(rates.index_select(0, rows).unsqueeze(1)).neg().MoveToOuterDisposeScope();
        },
    };

    /// <summary>Creates the per-row parameters, <c>[B]</c> in <see cref="Dtype"/>.</summary>
    public Tensor RateTensor() => tensor(Rates, dtype: ScalarType.Float64).to(Dtype);

    /// <summary>Solves the case (all rows) with its options, or with <paramref name="options"/>.</summary>
    public OdeSolution Solve(SolverOptions? options = null)
    {
        using var rates = RateTensor();
        using var y0 = InitialState();
        return Ode.Solve(Schemes.Get(Scheme), Dynamics(rates), y0, T0, T1, options ?? Options());
    }

    /// <summary>Solves the case with per-row spans <c>[B]</c> (<see cref="T0"/> and <see cref="T1"/> unused).</summary>
    public OdeSolution Solve(double[] t0Rows, double[] t1Rows, SolverOptions? options = null)
    {
        using var rates = RateTensor();
        using var y0 = InitialState();
        using var t0 = tensor(t0Rows, dtype: ScalarType.Float64);
        using var t1 = tensor(t1Rows, dtype: ScalarType.Float64);
        return Ode.Solve(Schemes.Get(Scheme), Dynamics(rates), y0, t0, t1, options ?? Options());
    }

    /// <summary>Solves the case on a time grid <c>[T]</c> or <c>[B, T]</c> (<see cref="T0"/> and <see cref="T1"/> unused).</summary>
    public OdeSolution Solve(Tensor ts, SolverOptions? options = null)
    {
        using var rates = RateTensor();
        using var y0 = InitialState();
        return Ode.Solve(Schemes.Get(Scheme), Dynamics(rates), y0, ts, options ?? Options());
    }

    /// <summary>The exact state of <paramref name="row"/> at time <paramref name="t"/>.</summary>
    public double[] Exact(int row, double t)
    {
        var rate = Rates[row];
        var y0 = Y0[row];
        var s = t - T0;
        return Problem switch
        {
            KnownProblem.Decay => [.. y0.Select(v => v * Math.Exp(-rate * s))],
            KnownProblem.Oscillator =>
            [
                (y0[0] * Math.Cos(rate * s)) + (y0[1] / rate * Math.Sin(rate * s)),
                (-y0[0] * rate * Math.Sin(rate * s)) + (y0[1] * Math.Cos(rate * s)),
            ],
            _ => [t - (1 / rate) + ((y0[0] - T0 + (1 / rate)) * Math.Exp(-rate * s))],
        };
    }

    /// <summary>The largest |y| of the row's exact trajectory over the span (sampled at 401 points and both ends).</summary>
    public double MaxMagnitude(int row) =>
        Enumerable.Range(0, 401).Select(k => T0 + ((T1 - T0) * k / 400)).Append(T1)
            .SelectMany(t => Exact(row, t)).Max(Math.Abs);

    /// <summary>
    /// The error a row's tolerances allow at its end after <paramref name="steps"/> accepted steps:
    /// <c>(atol + rtol·max|y|)·steps</c>, with each step's error carried to the end by the problem. A decay (and a
    /// relaxation's deviation from its asymptote) integrated against its direction of decay grows by up to
    /// A = e^(rate·|t1 − t0|): an error of atol made where |y| is tiny arrives multiplied by A, while one of rtol·|y|
    /// arrives as rtol·|y(t1)| for the decay (the state grows at the same rate) and multiplied by A for the relaxation.
    /// The oscillator does not grow (A = 1).
    /// </summary>
    public double ToleranceScale(int row, long steps)
    {
        var magnitude = MaxMagnitude(row);
        var amplification = Problem is KnownProblem.Decay or KnownProblem.Relaxation
            ? Math.Exp(Math.Max(0, -Rates[row] * (T1 - T0)))
            : 1;
        var perStep = Problem switch
        {
            KnownProblem.Decay => (Atol * amplification) + (Rtol * magnitude),
            KnownProblem.Relaxation => (Atol + (Rtol * magnitude)) * amplification,
            _ => Atol + (Rtol * magnitude),
        };
        return perStep * Math.Max(1, steps);
    }

    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"{Scheme} {Dtype} {Problem} [{T0:R} → {T1:R}] rtol {Rtol:E2} atol {Atol:E2} h0 {InitialStep?.ToString("R", CultureInfo.InvariantCulture) ?? "auto"} {Compaction} MaxSteps {MaxSteps}; rates [{string.Join(", ", Rates.Select(static r => r.ToString("R", CultureInfo.InvariantCulture)))}]; y0 [{string.Join("; ", Y0.Select(static r => string.Join(", ", r.Select(static v => v.ToString("R", CultureInfo.InvariantCulture)))))}]");
}
