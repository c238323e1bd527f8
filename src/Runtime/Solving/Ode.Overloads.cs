using NeuralOde.Stepping;
using TorchSharp;
using static TorchSharp.torch;

namespace NeuralOde.Solving;

// The public overload set: every way of naming the scheme (type argument, name, instance) × every form of the
// dynamics (f(t, y), f(t, y, rows), a module) × every way of giving the times (one span, a span per row, a grid).
// Each forwards to the one solve in Ode.cs.
public static partial class Ode
{
    /// <summary>Solves a batch with the scheme given as a type argument from <paramref name="t0"/> to <paramref name="t1"/> for every row.</summary>
    /// <typeparam name="TScheme">A generated scheme type, for example <c>DormandPrince54.Method</c>.</typeparam>
    /// <param name="f">The dynamics <c>(t [B'], y [B', ...]) → dy/dt [B', ...]</c>; <c>t</c> is each row's own time in y's dtype. It returns a new tensor (a tensor it keeps is copied, never modified).</param>
    /// <param name="y0">The initial states, <c>[B, ...]</c>, float32 or float64, on the device to solve on.</param>
    /// <param name="t0">The start time, finite.</param>
    /// <param name="t1">The end time, finite; less than <paramref name="t0"/> integrates backwards.</param>
    /// <param name="options">How to solve; default adaptive with rtol 1e-3, atol 1e-6.</param>
    /// <returns>The solution, owned by the caller: <see cref="OdeSolution.Y"/> <c>[B, ...]</c> at t1 (and <see cref="OdeSolution.Ys"/> <c>[B, T, ...]</c> at <see cref="SolverOptions.OutputTimes"/>), per-row status and statistics.</returns>
    /// <exception cref="ArgumentException">An argument is invalid (shape, dtype, device, tolerance, times).</exception>
    /// <exception cref="OdeSolverException">Rows failed and <see cref="SolverOptions.ThrowOnFailure"/> is set.</exception>
    public static OdeSolution Solve<TScheme>(Func<Tensor, Tensor, Tensor> f, Tensor y0, double t0, double t1, SolverOptions? options = null)
        where TScheme : RungeKuttaScheme, IRungeKuttaScheme<TScheme> =>
        Solve(TScheme.Instance, Rows(f), y0, (y, o) => SolveTimes.Scalar(y, t0, t1, o.OutputTimes), options, observer: null);

    /// <summary>Solves a batch with the scheme given as a type argument over each row's own span, from <c>t0[b]</c> to <c>t1[b]</c> (each row is bit-identical to that row solved alone).</summary>
    /// <typeparam name="TScheme">A generated scheme type, for example <c>DormandPrince54.Method</c>.</typeparam>
    /// <param name="f">The dynamics <c>(t [B'], y [B', ...]) → dy/dt [B', ...]</c>; <c>t</c> is each row's own time in y's dtype. It returns a new tensor (a tensor it keeps is copied, never modified).</param>
    /// <param name="y0">The initial states, <c>[B, ...]</c>, float32 or float64, on the device to solve on.</param>
    /// <param name="t0">Each row's start time, <c>[B]</c>, floating point, on y0's device.</param>
    /// <param name="t1">Each row's end time, <c>[B]</c>; rows may integrate in either direction, and a row with t1 = t0 finishes at once.</param>
    /// <param name="options">How to solve; default adaptive with rtol 1e-3, atol 1e-6.</param>
    /// <returns>The solution, owned by the caller: <see cref="OdeSolution.Y"/> <c>[B, ...]</c> at each row's t1 (and <see cref="OdeSolution.Ys"/> at <see cref="SolverOptions.OutputTimes"/>, each row inside its own span), per-row status and statistics.</returns>
    /// <exception cref="ArgumentException">An argument is invalid (shape, dtype, device, tolerance, times).</exception>
    /// <exception cref="OdeSolverException">Rows failed and <see cref="SolverOptions.ThrowOnFailure"/> is set.</exception>
    public static OdeSolution Solve<TScheme>(Func<Tensor, Tensor, Tensor> f, Tensor y0, Tensor t0, Tensor t1, SolverOptions? options = null)
        where TScheme : RungeKuttaScheme, IRungeKuttaScheme<TScheme> =>
        Solve(TScheme.Instance, Rows(f), y0, (y, o) => SolveTimes.Rows(y, t0, t1, o.OutputTimes), options, observer: null);

    /// <summary>Solves a batch with the scheme given as a type argument over a time grid, returning the state at every time of it.</summary>
    /// <typeparam name="TScheme">A generated scheme type, for example <c>DormandPrince54.Method</c>.</typeparam>
    /// <param name="f">The dynamics <c>(t [B'], y [B', ...]) → dy/dt [B', ...]</c>; <c>t</c> is each row's own time in y's dtype. It returns a new tensor (a tensor it keeps is copied, never modified).</param>
    /// <param name="y0">The initial states, <c>[B, ...]</c>, float32 or float64, on the device to solve on.</param>
    /// <param name="ts">The time grid, <c>[T]</c> shared or <c>[B, T]</c> per row, T ≥ 2, strictly increasing or decreasing in each row, on y0's device: its first time is the row's start and its last the row's end (torchdiffeq's <c>odeint(func, y0, t)</c>).</param>
    /// <param name="options">How to solve; default adaptive with rtol 1e-3, atol 1e-6.</param>
    /// <returns>The solution, owned by the caller: <see cref="OdeSolution.Ys"/> <c>[B, T, ...]</c> with <c>Ys[:, 0] == y0</c>, and <see cref="OdeSolution.Y"/> <c>[B, ...]</c> at each row's last time, per-row status and statistics.</returns>
    /// <exception cref="ArgumentException">An argument is invalid (shape, dtype, device, tolerance, times).</exception>
    /// <exception cref="OdeSolverException">Rows failed and <see cref="SolverOptions.ThrowOnFailure"/> is set.</exception>
    public static OdeSolution Solve<TScheme>(Func<Tensor, Tensor, Tensor> f, Tensor y0, Tensor ts, SolverOptions? options = null)
        where TScheme : RungeKuttaScheme, IRungeKuttaScheme<TScheme> =>
        Solve(TScheme.Instance, Rows(f), y0, (y, o) => SolveTimes.Grid(y, ts, o.OutputTimes), options, observer: null);

    /// <summary>Solves a batch with the scheme given as a type argument from <paramref name="t0"/> to <paramref name="t1"/> for every row.</summary>
    /// <typeparam name="TScheme">A generated scheme type, for example <c>DormandPrince54.Method</c>.</typeparam>
    /// <param name="f">The dynamics with the rows' indices: <c>(t [B'], y [B', ...], rows [B'] int64) → dy/dt [B', ...]</c>; once rows finish only the running ones are evaluated, so per-row parameters are picked with <c>rows</c>.</param>
    /// <param name="y0">The initial states, <c>[B, ...]</c>, float32 or float64, on the device to solve on.</param>
    /// <param name="t0">The start time, finite.</param>
    /// <param name="t1">The end time, finite; less than <paramref name="t0"/> integrates backwards.</param>
    /// <param name="options">How to solve; default adaptive with rtol 1e-3, atol 1e-6.</param>
    /// <returns>The solution, owned by the caller: <see cref="OdeSolution.Y"/> <c>[B, ...]</c> at t1 (and <see cref="OdeSolution.Ys"/> <c>[B, T, ...]</c> at <see cref="SolverOptions.OutputTimes"/>), per-row status and statistics.</returns>
    /// <exception cref="ArgumentException">An argument is invalid (shape, dtype, device, tolerance, times).</exception>
    /// <exception cref="OdeSolverException">Rows failed and <see cref="SolverOptions.ThrowOnFailure"/> is set.</exception>
    public static OdeSolution Solve<TScheme>(Func<Tensor, Tensor, Tensor, Tensor> f, Tensor y0, double t0, double t1, SolverOptions? options = null)
        where TScheme : RungeKuttaScheme, IRungeKuttaScheme<TScheme> =>
        Solve(TScheme.Instance, f, y0, (y, o) => SolveTimes.Scalar(y, t0, t1, o.OutputTimes), options, observer: null);

    /// <summary>Solves a batch with the scheme given as a type argument over each row's own span, from <c>t0[b]</c> to <c>t1[b]</c> (each row is bit-identical to that row solved alone).</summary>
    /// <typeparam name="TScheme">A generated scheme type, for example <c>DormandPrince54.Method</c>.</typeparam>
    /// <param name="f">The dynamics with the rows' indices: <c>(t [B'], y [B', ...], rows [B'] int64) → dy/dt [B', ...]</c>; once rows finish only the running ones are evaluated, so per-row parameters are picked with <c>rows</c>.</param>
    /// <param name="y0">The initial states, <c>[B, ...]</c>, float32 or float64, on the device to solve on.</param>
    /// <param name="t0">Each row's start time, <c>[B]</c>, floating point, on y0's device.</param>
    /// <param name="t1">Each row's end time, <c>[B]</c>; rows may integrate in either direction, and a row with t1 = t0 finishes at once.</param>
    /// <param name="options">How to solve; default adaptive with rtol 1e-3, atol 1e-6.</param>
    /// <returns>The solution, owned by the caller: <see cref="OdeSolution.Y"/> <c>[B, ...]</c> at each row's t1 (and <see cref="OdeSolution.Ys"/> at <see cref="SolverOptions.OutputTimes"/>, each row inside its own span), per-row status and statistics.</returns>
    /// <exception cref="ArgumentException">An argument is invalid (shape, dtype, device, tolerance, times).</exception>
    /// <exception cref="OdeSolverException">Rows failed and <see cref="SolverOptions.ThrowOnFailure"/> is set.</exception>
    public static OdeSolution Solve<TScheme>(Func<Tensor, Tensor, Tensor, Tensor> f, Tensor y0, Tensor t0, Tensor t1, SolverOptions? options = null)
        where TScheme : RungeKuttaScheme, IRungeKuttaScheme<TScheme> =>
        Solve(TScheme.Instance, f, y0, (y, o) => SolveTimes.Rows(y, t0, t1, o.OutputTimes), options, observer: null);

    /// <summary>Solves a batch with the scheme given as a type argument over a time grid, returning the state at every time of it.</summary>
    /// <typeparam name="TScheme">A generated scheme type, for example <c>DormandPrince54.Method</c>.</typeparam>
    /// <param name="f">The dynamics with the rows' indices: <c>(t [B'], y [B', ...], rows [B'] int64) → dy/dt [B', ...]</c>; once rows finish only the running ones are evaluated, so per-row parameters are picked with <c>rows</c>.</param>
    /// <param name="y0">The initial states, <c>[B, ...]</c>, float32 or float64, on the device to solve on.</param>
    /// <param name="ts">The time grid, <c>[T]</c> shared or <c>[B, T]</c> per row, T ≥ 2, strictly increasing or decreasing in each row, on y0's device: its first time is the row's start and its last the row's end (torchdiffeq's <c>odeint(func, y0, t)</c>).</param>
    /// <param name="options">How to solve; default adaptive with rtol 1e-3, atol 1e-6.</param>
    /// <returns>The solution, owned by the caller: <see cref="OdeSolution.Ys"/> <c>[B, T, ...]</c> with <c>Ys[:, 0] == y0</c>, and <see cref="OdeSolution.Y"/> <c>[B, ...]</c> at each row's last time, per-row status and statistics.</returns>
    /// <exception cref="ArgumentException">An argument is invalid (shape, dtype, device, tolerance, times).</exception>
    /// <exception cref="OdeSolverException">Rows failed and <see cref="SolverOptions.ThrowOnFailure"/> is set.</exception>
    public static OdeSolution Solve<TScheme>(Func<Tensor, Tensor, Tensor, Tensor> f, Tensor y0, Tensor ts, SolverOptions? options = null)
        where TScheme : RungeKuttaScheme, IRungeKuttaScheme<TScheme> =>
        Solve(TScheme.Instance, f, y0, (y, o) => SolveTimes.Grid(y, ts, o.OutputTimes), options, observer: null);

    /// <summary>Solves a batch with the scheme given as a type argument from <paramref name="t0"/> to <paramref name="t1"/> for every row.</summary>
    /// <typeparam name="TScheme">A generated scheme type, for example <c>DormandPrince54.Method</c>.</typeparam>
    /// <param name="f">The dynamics module <c>(t [B'], y [B', ...]) → dy/dt [B', ...]</c>, called through <c>call</c> so that hooks run.</param>
    /// <param name="y0">The initial states, <c>[B, ...]</c>, float32 or float64, on the device to solve on.</param>
    /// <param name="t0">The start time, finite.</param>
    /// <param name="t1">The end time, finite; less than <paramref name="t0"/> integrates backwards.</param>
    /// <param name="options">How to solve; default adaptive with rtol 1e-3, atol 1e-6.</param>
    /// <returns>The solution, owned by the caller: <see cref="OdeSolution.Y"/> <c>[B, ...]</c> at t1 (and <see cref="OdeSolution.Ys"/> <c>[B, T, ...]</c> at <see cref="SolverOptions.OutputTimes"/>), per-row status and statistics.</returns>
    /// <exception cref="ArgumentException">An argument is invalid (shape, dtype, device, tolerance, times).</exception>
    /// <exception cref="OdeSolverException">Rows failed and <see cref="SolverOptions.ThrowOnFailure"/> is set.</exception>
    public static OdeSolution Solve<TScheme>(nn.Module<Tensor, Tensor, Tensor> f, Tensor y0, double t0, double t1, SolverOptions? options = null)
        where TScheme : RungeKuttaScheme, IRungeKuttaScheme<TScheme> =>
        Solve(TScheme.Instance, Rows(f), y0, (y, o) => SolveTimes.Scalar(y, t0, t1, o.OutputTimes), options, observer: null);

    /// <summary>Solves a batch with the scheme given as a type argument over each row's own span, from <c>t0[b]</c> to <c>t1[b]</c> (each row is bit-identical to that row solved alone).</summary>
    /// <typeparam name="TScheme">A generated scheme type, for example <c>DormandPrince54.Method</c>.</typeparam>
    /// <param name="f">The dynamics module <c>(t [B'], y [B', ...]) → dy/dt [B', ...]</c>, called through <c>call</c> so that hooks run.</param>
    /// <param name="y0">The initial states, <c>[B, ...]</c>, float32 or float64, on the device to solve on.</param>
    /// <param name="t0">Each row's start time, <c>[B]</c>, floating point, on y0's device.</param>
    /// <param name="t1">Each row's end time, <c>[B]</c>; rows may integrate in either direction, and a row with t1 = t0 finishes at once.</param>
    /// <param name="options">How to solve; default adaptive with rtol 1e-3, atol 1e-6.</param>
    /// <returns>The solution, owned by the caller: <see cref="OdeSolution.Y"/> <c>[B, ...]</c> at each row's t1 (and <see cref="OdeSolution.Ys"/> at <see cref="SolverOptions.OutputTimes"/>, each row inside its own span), per-row status and statistics.</returns>
    /// <exception cref="ArgumentException">An argument is invalid (shape, dtype, device, tolerance, times).</exception>
    /// <exception cref="OdeSolverException">Rows failed and <see cref="SolverOptions.ThrowOnFailure"/> is set.</exception>
    public static OdeSolution Solve<TScheme>(nn.Module<Tensor, Tensor, Tensor> f, Tensor y0, Tensor t0, Tensor t1, SolverOptions? options = null)
        where TScheme : RungeKuttaScheme, IRungeKuttaScheme<TScheme> =>
        Solve(TScheme.Instance, Rows(f), y0, (y, o) => SolveTimes.Rows(y, t0, t1, o.OutputTimes), options, observer: null);

    /// <summary>Solves a batch with the scheme given as a type argument over a time grid, returning the state at every time of it.</summary>
    /// <typeparam name="TScheme">A generated scheme type, for example <c>DormandPrince54.Method</c>.</typeparam>
    /// <param name="f">The dynamics module <c>(t [B'], y [B', ...]) → dy/dt [B', ...]</c>, called through <c>call</c> so that hooks run.</param>
    /// <param name="y0">The initial states, <c>[B, ...]</c>, float32 or float64, on the device to solve on.</param>
    /// <param name="ts">The time grid, <c>[T]</c> shared or <c>[B, T]</c> per row, T ≥ 2, strictly increasing or decreasing in each row, on y0's device: its first time is the row's start and its last the row's end (torchdiffeq's <c>odeint(func, y0, t)</c>).</param>
    /// <param name="options">How to solve; default adaptive with rtol 1e-3, atol 1e-6.</param>
    /// <returns>The solution, owned by the caller: <see cref="OdeSolution.Ys"/> <c>[B, T, ...]</c> with <c>Ys[:, 0] == y0</c>, and <see cref="OdeSolution.Y"/> <c>[B, ...]</c> at each row's last time, per-row status and statistics.</returns>
    /// <exception cref="ArgumentException">An argument is invalid (shape, dtype, device, tolerance, times).</exception>
    /// <exception cref="OdeSolverException">Rows failed and <see cref="SolverOptions.ThrowOnFailure"/> is set.</exception>
    public static OdeSolution Solve<TScheme>(nn.Module<Tensor, Tensor, Tensor> f, Tensor y0, Tensor ts, SolverOptions? options = null)
        where TScheme : RungeKuttaScheme, IRungeKuttaScheme<TScheme> =>
        Solve(TScheme.Instance, Rows(f), y0, (y, o) => SolveTimes.Grid(y, ts, o.OutputTimes), options, observer: null);

    /// <summary>Solves a batch with the scheme found by name (trimmed, case-insensitive, e.g. <c>"dopri5"</c>) from <paramref name="t0"/> to <paramref name="t1"/> for every row.</summary>
    /// <param name="scheme">The scheme's name; see <see cref="Schemes.All"/>.</param>
    /// <param name="f">The dynamics <c>(t [B'], y [B', ...]) → dy/dt [B', ...]</c>; <c>t</c> is each row's own time in y's dtype. It returns a new tensor (a tensor it keeps is copied, never modified).</param>
    /// <param name="y0">The initial states, <c>[B, ...]</c>, float32 or float64, on the device to solve on.</param>
    /// <param name="t0">The start time, finite.</param>
    /// <param name="t1">The end time, finite; less than <paramref name="t0"/> integrates backwards.</param>
    /// <param name="options">How to solve; default adaptive with rtol 1e-3, atol 1e-6.</param>
    /// <returns>The solution, owned by the caller: <see cref="OdeSolution.Y"/> <c>[B, ...]</c> at t1 (and <see cref="OdeSolution.Ys"/> <c>[B, T, ...]</c> at <see cref="SolverOptions.OutputTimes"/>), per-row status and statistics.</returns>
    /// <exception cref="ArgumentException">An argument is invalid (shape, dtype, device, tolerance, times).</exception>
    /// <exception cref="OdeSolverException">Rows failed and <see cref="SolverOptions.ThrowOnFailure"/> is set.</exception>
    public static OdeSolution Solve(string scheme, Func<Tensor, Tensor, Tensor> f, Tensor y0, double t0, double t1, SolverOptions? options = null) =>
        Solve(Schemes.Get(scheme), Rows(f), y0, (y, o) => SolveTimes.Scalar(y, t0, t1, o.OutputTimes), options, observer: null);

    /// <summary>Solves a batch with the scheme found by name (trimmed, case-insensitive, e.g. <c>"dopri5"</c>) over each row's own span, from <c>t0[b]</c> to <c>t1[b]</c> (each row is bit-identical to that row solved alone).</summary>
    /// <param name="scheme">The scheme's name; see <see cref="Schemes.All"/>.</param>
    /// <param name="f">The dynamics <c>(t [B'], y [B', ...]) → dy/dt [B', ...]</c>; <c>t</c> is each row's own time in y's dtype. It returns a new tensor (a tensor it keeps is copied, never modified).</param>
    /// <param name="y0">The initial states, <c>[B, ...]</c>, float32 or float64, on the device to solve on.</param>
    /// <param name="t0">Each row's start time, <c>[B]</c>, floating point, on y0's device.</param>
    /// <param name="t1">Each row's end time, <c>[B]</c>; rows may integrate in either direction, and a row with t1 = t0 finishes at once.</param>
    /// <param name="options">How to solve; default adaptive with rtol 1e-3, atol 1e-6.</param>
    /// <returns>The solution, owned by the caller: <see cref="OdeSolution.Y"/> <c>[B, ...]</c> at each row's t1 (and <see cref="OdeSolution.Ys"/> at <see cref="SolverOptions.OutputTimes"/>, each row inside its own span), per-row status and statistics.</returns>
    /// <exception cref="ArgumentException">An argument is invalid (shape, dtype, device, tolerance, times).</exception>
    /// <exception cref="OdeSolverException">Rows failed and <see cref="SolverOptions.ThrowOnFailure"/> is set.</exception>
    public static OdeSolution Solve(string scheme, Func<Tensor, Tensor, Tensor> f, Tensor y0, Tensor t0, Tensor t1, SolverOptions? options = null) =>
        Solve(Schemes.Get(scheme), Rows(f), y0, (y, o) => SolveTimes.Rows(y, t0, t1, o.OutputTimes), options, observer: null);

    /// <summary>Solves a batch with the scheme found by name (trimmed, case-insensitive, e.g. <c>"dopri5"</c>) over a time grid, returning the state at every time of it.</summary>
    /// <param name="scheme">The scheme's name; see <see cref="Schemes.All"/>.</param>
    /// <param name="f">The dynamics <c>(t [B'], y [B', ...]) → dy/dt [B', ...]</c>; <c>t</c> is each row's own time in y's dtype. It returns a new tensor (a tensor it keeps is copied, never modified).</param>
    /// <param name="y0">The initial states, <c>[B, ...]</c>, float32 or float64, on the device to solve on.</param>
    /// <param name="ts">The time grid, <c>[T]</c> shared or <c>[B, T]</c> per row, T ≥ 2, strictly increasing or decreasing in each row, on y0's device: its first time is the row's start and its last the row's end (torchdiffeq's <c>odeint(func, y0, t)</c>).</param>
    /// <param name="options">How to solve; default adaptive with rtol 1e-3, atol 1e-6.</param>
    /// <returns>The solution, owned by the caller: <see cref="OdeSolution.Ys"/> <c>[B, T, ...]</c> with <c>Ys[:, 0] == y0</c>, and <see cref="OdeSolution.Y"/> <c>[B, ...]</c> at each row's last time, per-row status and statistics.</returns>
    /// <exception cref="ArgumentException">An argument is invalid (shape, dtype, device, tolerance, times).</exception>
    /// <exception cref="OdeSolverException">Rows failed and <see cref="SolverOptions.ThrowOnFailure"/> is set.</exception>
    public static OdeSolution Solve(string scheme, Func<Tensor, Tensor, Tensor> f, Tensor y0, Tensor ts, SolverOptions? options = null) =>
        Solve(Schemes.Get(scheme), Rows(f), y0, (y, o) => SolveTimes.Grid(y, ts, o.OutputTimes), options, observer: null);

    /// <summary>Solves a batch with the scheme found by name (trimmed, case-insensitive, e.g. <c>"dopri5"</c>) from <paramref name="t0"/> to <paramref name="t1"/> for every row.</summary>
    /// <param name="scheme">The scheme's name; see <see cref="Schemes.All"/>.</param>
    /// <param name="f">The dynamics with the rows' indices: <c>(t [B'], y [B', ...], rows [B'] int64) → dy/dt [B', ...]</c>; once rows finish only the running ones are evaluated, so per-row parameters are picked with <c>rows</c>.</param>
    /// <param name="y0">The initial states, <c>[B, ...]</c>, float32 or float64, on the device to solve on.</param>
    /// <param name="t0">The start time, finite.</param>
    /// <param name="t1">The end time, finite; less than <paramref name="t0"/> integrates backwards.</param>
    /// <param name="options">How to solve; default adaptive with rtol 1e-3, atol 1e-6.</param>
    /// <returns>The solution, owned by the caller: <see cref="OdeSolution.Y"/> <c>[B, ...]</c> at t1 (and <see cref="OdeSolution.Ys"/> <c>[B, T, ...]</c> at <see cref="SolverOptions.OutputTimes"/>), per-row status and statistics.</returns>
    /// <exception cref="ArgumentException">An argument is invalid (shape, dtype, device, tolerance, times).</exception>
    /// <exception cref="OdeSolverException">Rows failed and <see cref="SolverOptions.ThrowOnFailure"/> is set.</exception>
    public static OdeSolution Solve(string scheme, Func<Tensor, Tensor, Tensor, Tensor> f, Tensor y0, double t0, double t1, SolverOptions? options = null) =>
        Solve(Schemes.Get(scheme), f, y0, (y, o) => SolveTimes.Scalar(y, t0, t1, o.OutputTimes), options, observer: null);

    /// <summary>Solves a batch with the scheme found by name (trimmed, case-insensitive, e.g. <c>"dopri5"</c>) over each row's own span, from <c>t0[b]</c> to <c>t1[b]</c> (each row is bit-identical to that row solved alone).</summary>
    /// <param name="scheme">The scheme's name; see <see cref="Schemes.All"/>.</param>
    /// <param name="f">The dynamics with the rows' indices: <c>(t [B'], y [B', ...], rows [B'] int64) → dy/dt [B', ...]</c>; once rows finish only the running ones are evaluated, so per-row parameters are picked with <c>rows</c>.</param>
    /// <param name="y0">The initial states, <c>[B, ...]</c>, float32 or float64, on the device to solve on.</param>
    /// <param name="t0">Each row's start time, <c>[B]</c>, floating point, on y0's device.</param>
    /// <param name="t1">Each row's end time, <c>[B]</c>; rows may integrate in either direction, and a row with t1 = t0 finishes at once.</param>
    /// <param name="options">How to solve; default adaptive with rtol 1e-3, atol 1e-6.</param>
    /// <returns>The solution, owned by the caller: <see cref="OdeSolution.Y"/> <c>[B, ...]</c> at each row's t1 (and <see cref="OdeSolution.Ys"/> at <see cref="SolverOptions.OutputTimes"/>, each row inside its own span), per-row status and statistics.</returns>
    /// <exception cref="ArgumentException">An argument is invalid (shape, dtype, device, tolerance, times).</exception>
    /// <exception cref="OdeSolverException">Rows failed and <see cref="SolverOptions.ThrowOnFailure"/> is set.</exception>
    public static OdeSolution Solve(string scheme, Func<Tensor, Tensor, Tensor, Tensor> f, Tensor y0, Tensor t0, Tensor t1, SolverOptions? options = null) =>
        Solve(Schemes.Get(scheme), f, y0, (y, o) => SolveTimes.Rows(y, t0, t1, o.OutputTimes), options, observer: null);

    /// <summary>Solves a batch with the scheme found by name (trimmed, case-insensitive, e.g. <c>"dopri5"</c>) over a time grid, returning the state at every time of it.</summary>
    /// <param name="scheme">The scheme's name; see <see cref="Schemes.All"/>.</param>
    /// <param name="f">The dynamics with the rows' indices: <c>(t [B'], y [B', ...], rows [B'] int64) → dy/dt [B', ...]</c>; once rows finish only the running ones are evaluated, so per-row parameters are picked with <c>rows</c>.</param>
    /// <param name="y0">The initial states, <c>[B, ...]</c>, float32 or float64, on the device to solve on.</param>
    /// <param name="ts">The time grid, <c>[T]</c> shared or <c>[B, T]</c> per row, T ≥ 2, strictly increasing or decreasing in each row, on y0's device: its first time is the row's start and its last the row's end (torchdiffeq's <c>odeint(func, y0, t)</c>).</param>
    /// <param name="options">How to solve; default adaptive with rtol 1e-3, atol 1e-6.</param>
    /// <returns>The solution, owned by the caller: <see cref="OdeSolution.Ys"/> <c>[B, T, ...]</c> with <c>Ys[:, 0] == y0</c>, and <see cref="OdeSolution.Y"/> <c>[B, ...]</c> at each row's last time, per-row status and statistics.</returns>
    /// <exception cref="ArgumentException">An argument is invalid (shape, dtype, device, tolerance, times).</exception>
    /// <exception cref="OdeSolverException">Rows failed and <see cref="SolverOptions.ThrowOnFailure"/> is set.</exception>
    public static OdeSolution Solve(string scheme, Func<Tensor, Tensor, Tensor, Tensor> f, Tensor y0, Tensor ts, SolverOptions? options = null) =>
        Solve(Schemes.Get(scheme), f, y0, (y, o) => SolveTimes.Grid(y, ts, o.OutputTimes), options, observer: null);

    /// <summary>Solves a batch with the scheme found by name (trimmed, case-insensitive, e.g. <c>"dopri5"</c>) from <paramref name="t0"/> to <paramref name="t1"/> for every row.</summary>
    /// <param name="scheme">The scheme's name; see <see cref="Schemes.All"/>.</param>
    /// <param name="f">The dynamics module <c>(t [B'], y [B', ...]) → dy/dt [B', ...]</c>, called through <c>call</c> so that hooks run.</param>
    /// <param name="y0">The initial states, <c>[B, ...]</c>, float32 or float64, on the device to solve on.</param>
    /// <param name="t0">The start time, finite.</param>
    /// <param name="t1">The end time, finite; less than <paramref name="t0"/> integrates backwards.</param>
    /// <param name="options">How to solve; default adaptive with rtol 1e-3, atol 1e-6.</param>
    /// <returns>The solution, owned by the caller: <see cref="OdeSolution.Y"/> <c>[B, ...]</c> at t1 (and <see cref="OdeSolution.Ys"/> <c>[B, T, ...]</c> at <see cref="SolverOptions.OutputTimes"/>), per-row status and statistics.</returns>
    /// <exception cref="ArgumentException">An argument is invalid (shape, dtype, device, tolerance, times).</exception>
    /// <exception cref="OdeSolverException">Rows failed and <see cref="SolverOptions.ThrowOnFailure"/> is set.</exception>
    public static OdeSolution Solve(string scheme, nn.Module<Tensor, Tensor, Tensor> f, Tensor y0, double t0, double t1, SolverOptions? options = null) =>
        Solve(Schemes.Get(scheme), Rows(f), y0, (y, o) => SolveTimes.Scalar(y, t0, t1, o.OutputTimes), options, observer: null);

    /// <summary>Solves a batch with the scheme found by name (trimmed, case-insensitive, e.g. <c>"dopri5"</c>) over each row's own span, from <c>t0[b]</c> to <c>t1[b]</c> (each row is bit-identical to that row solved alone).</summary>
    /// <param name="scheme">The scheme's name; see <see cref="Schemes.All"/>.</param>
    /// <param name="f">The dynamics module <c>(t [B'], y [B', ...]) → dy/dt [B', ...]</c>, called through <c>call</c> so that hooks run.</param>
    /// <param name="y0">The initial states, <c>[B, ...]</c>, float32 or float64, on the device to solve on.</param>
    /// <param name="t0">Each row's start time, <c>[B]</c>, floating point, on y0's device.</param>
    /// <param name="t1">Each row's end time, <c>[B]</c>; rows may integrate in either direction, and a row with t1 = t0 finishes at once.</param>
    /// <param name="options">How to solve; default adaptive with rtol 1e-3, atol 1e-6.</param>
    /// <returns>The solution, owned by the caller: <see cref="OdeSolution.Y"/> <c>[B, ...]</c> at each row's t1 (and <see cref="OdeSolution.Ys"/> at <see cref="SolverOptions.OutputTimes"/>, each row inside its own span), per-row status and statistics.</returns>
    /// <exception cref="ArgumentException">An argument is invalid (shape, dtype, device, tolerance, times).</exception>
    /// <exception cref="OdeSolverException">Rows failed and <see cref="SolverOptions.ThrowOnFailure"/> is set.</exception>
    public static OdeSolution Solve(string scheme, nn.Module<Tensor, Tensor, Tensor> f, Tensor y0, Tensor t0, Tensor t1, SolverOptions? options = null) =>
        Solve(Schemes.Get(scheme), Rows(f), y0, (y, o) => SolveTimes.Rows(y, t0, t1, o.OutputTimes), options, observer: null);

    /// <summary>Solves a batch with the scheme found by name (trimmed, case-insensitive, e.g. <c>"dopri5"</c>) over a time grid, returning the state at every time of it.</summary>
    /// <param name="scheme">The scheme's name; see <see cref="Schemes.All"/>.</param>
    /// <param name="f">The dynamics module <c>(t [B'], y [B', ...]) → dy/dt [B', ...]</c>, called through <c>call</c> so that hooks run.</param>
    /// <param name="y0">The initial states, <c>[B, ...]</c>, float32 or float64, on the device to solve on.</param>
    /// <param name="ts">The time grid, <c>[T]</c> shared or <c>[B, T]</c> per row, T ≥ 2, strictly increasing or decreasing in each row, on y0's device: its first time is the row's start and its last the row's end (torchdiffeq's <c>odeint(func, y0, t)</c>).</param>
    /// <param name="options">How to solve; default adaptive with rtol 1e-3, atol 1e-6.</param>
    /// <returns>The solution, owned by the caller: <see cref="OdeSolution.Ys"/> <c>[B, T, ...]</c> with <c>Ys[:, 0] == y0</c>, and <see cref="OdeSolution.Y"/> <c>[B, ...]</c> at each row's last time, per-row status and statistics.</returns>
    /// <exception cref="ArgumentException">An argument is invalid (shape, dtype, device, tolerance, times).</exception>
    /// <exception cref="OdeSolverException">Rows failed and <see cref="SolverOptions.ThrowOnFailure"/> is set.</exception>
    public static OdeSolution Solve(string scheme, nn.Module<Tensor, Tensor, Tensor> f, Tensor y0, Tensor ts, SolverOptions? options = null) =>
        Solve(Schemes.Get(scheme), Rows(f), y0, (y, o) => SolveTimes.Grid(y, ts, o.OutputTimes), options, observer: null);

    /// <summary>Solves a batch with the given scheme from <paramref name="t0"/> to <paramref name="t1"/> for every row.</summary>
    /// <param name="scheme">The scheme; adaptive solves need one with embedded weights.</param>
    /// <param name="f">The dynamics <c>(t [B'], y [B', ...]) → dy/dt [B', ...]</c>; <c>t</c> is each row's own time in y's dtype. It returns a new tensor (a tensor it keeps is copied, never modified).</param>
    /// <param name="y0">The initial states, <c>[B, ...]</c>, float32 or float64, on the device to solve on.</param>
    /// <param name="t0">The start time, finite.</param>
    /// <param name="t1">The end time, finite; less than <paramref name="t0"/> integrates backwards.</param>
    /// <param name="options">How to solve; default adaptive with rtol 1e-3, atol 1e-6.</param>
    /// <returns>The solution, owned by the caller: <see cref="OdeSolution.Y"/> <c>[B, ...]</c> at t1 (and <see cref="OdeSolution.Ys"/> <c>[B, T, ...]</c> at <see cref="SolverOptions.OutputTimes"/>), per-row status and statistics.</returns>
    /// <exception cref="ArgumentException">An argument is invalid (shape, dtype, device, tolerance, times).</exception>
    /// <exception cref="OdeSolverException">Rows failed and <see cref="SolverOptions.ThrowOnFailure"/> is set.</exception>
    public static OdeSolution Solve(RungeKuttaScheme scheme, Func<Tensor, Tensor, Tensor> f, Tensor y0, double t0, double t1, SolverOptions? options = null) =>
        Solve(scheme, Rows(f), y0, (y, o) => SolveTimes.Scalar(y, t0, t1, o.OutputTimes), options, observer: null);

    /// <summary>Solves a batch with the given scheme over each row's own span, from <c>t0[b]</c> to <c>t1[b]</c> (each row is bit-identical to that row solved alone).</summary>
    /// <param name="scheme">The scheme; adaptive solves need one with embedded weights.</param>
    /// <param name="f">The dynamics <c>(t [B'], y [B', ...]) → dy/dt [B', ...]</c>; <c>t</c> is each row's own time in y's dtype. It returns a new tensor (a tensor it keeps is copied, never modified).</param>
    /// <param name="y0">The initial states, <c>[B, ...]</c>, float32 or float64, on the device to solve on.</param>
    /// <param name="t0">Each row's start time, <c>[B]</c>, floating point, on y0's device.</param>
    /// <param name="t1">Each row's end time, <c>[B]</c>; rows may integrate in either direction, and a row with t1 = t0 finishes at once.</param>
    /// <param name="options">How to solve; default adaptive with rtol 1e-3, atol 1e-6.</param>
    /// <returns>The solution, owned by the caller: <see cref="OdeSolution.Y"/> <c>[B, ...]</c> at each row's t1 (and <see cref="OdeSolution.Ys"/> at <see cref="SolverOptions.OutputTimes"/>, each row inside its own span), per-row status and statistics.</returns>
    /// <exception cref="ArgumentException">An argument is invalid (shape, dtype, device, tolerance, times).</exception>
    /// <exception cref="OdeSolverException">Rows failed and <see cref="SolverOptions.ThrowOnFailure"/> is set.</exception>
    public static OdeSolution Solve(RungeKuttaScheme scheme, Func<Tensor, Tensor, Tensor> f, Tensor y0, Tensor t0, Tensor t1, SolverOptions? options = null) =>
        Solve(scheme, Rows(f), y0, (y, o) => SolveTimes.Rows(y, t0, t1, o.OutputTimes), options, observer: null);

    /// <summary>Solves a batch with the given scheme over a time grid, returning the state at every time of it.</summary>
    /// <param name="scheme">The scheme; adaptive solves need one with embedded weights.</param>
    /// <param name="f">The dynamics <c>(t [B'], y [B', ...]) → dy/dt [B', ...]</c>; <c>t</c> is each row's own time in y's dtype. It returns a new tensor (a tensor it keeps is copied, never modified).</param>
    /// <param name="y0">The initial states, <c>[B, ...]</c>, float32 or float64, on the device to solve on.</param>
    /// <param name="ts">The time grid, <c>[T]</c> shared or <c>[B, T]</c> per row, T ≥ 2, strictly increasing or decreasing in each row, on y0's device: its first time is the row's start and its last the row's end (torchdiffeq's <c>odeint(func, y0, t)</c>).</param>
    /// <param name="options">How to solve; default adaptive with rtol 1e-3, atol 1e-6.</param>
    /// <returns>The solution, owned by the caller: <see cref="OdeSolution.Ys"/> <c>[B, T, ...]</c> with <c>Ys[:, 0] == y0</c>, and <see cref="OdeSolution.Y"/> <c>[B, ...]</c> at each row's last time, per-row status and statistics.</returns>
    /// <exception cref="ArgumentException">An argument is invalid (shape, dtype, device, tolerance, times).</exception>
    /// <exception cref="OdeSolverException">Rows failed and <see cref="SolverOptions.ThrowOnFailure"/> is set.</exception>
    public static OdeSolution Solve(RungeKuttaScheme scheme, Func<Tensor, Tensor, Tensor> f, Tensor y0, Tensor ts, SolverOptions? options = null) =>
        Solve(scheme, Rows(f), y0, (y, o) => SolveTimes.Grid(y, ts, o.OutputTimes), options, observer: null);

    /// <summary>Solves a batch with the given scheme from <paramref name="t0"/> to <paramref name="t1"/> for every row.</summary>
    /// <param name="scheme">The scheme; adaptive solves need one with embedded weights.</param>
    /// <param name="f">The dynamics with the rows' indices: <c>(t [B'], y [B', ...], rows [B'] int64) → dy/dt [B', ...]</c>; once rows finish only the running ones are evaluated, so per-row parameters are picked with <c>rows</c>.</param>
    /// <param name="y0">The initial states, <c>[B, ...]</c>, float32 or float64, on the device to solve on.</param>
    /// <param name="t0">The start time, finite.</param>
    /// <param name="t1">The end time, finite; less than <paramref name="t0"/> integrates backwards.</param>
    /// <param name="options">How to solve; default adaptive with rtol 1e-3, atol 1e-6.</param>
    /// <returns>The solution, owned by the caller: <see cref="OdeSolution.Y"/> <c>[B, ...]</c> at t1 (and <see cref="OdeSolution.Ys"/> <c>[B, T, ...]</c> at <see cref="SolverOptions.OutputTimes"/>), per-row status and statistics.</returns>
    /// <exception cref="ArgumentException">An argument is invalid (shape, dtype, device, tolerance, times).</exception>
    /// <exception cref="OdeSolverException">Rows failed and <see cref="SolverOptions.ThrowOnFailure"/> is set.</exception>
    public static OdeSolution Solve(RungeKuttaScheme scheme, Func<Tensor, Tensor, Tensor, Tensor> f, Tensor y0, double t0, double t1, SolverOptions? options = null) =>
        Solve(scheme, f, y0, (y, o) => SolveTimes.Scalar(y, t0, t1, o.OutputTimes), options, observer: null);

    /// <summary>Solves a batch with the given scheme over each row's own span, from <c>t0[b]</c> to <c>t1[b]</c> (each row is bit-identical to that row solved alone).</summary>
    /// <param name="scheme">The scheme; adaptive solves need one with embedded weights.</param>
    /// <param name="f">The dynamics with the rows' indices: <c>(t [B'], y [B', ...], rows [B'] int64) → dy/dt [B', ...]</c>; once rows finish only the running ones are evaluated, so per-row parameters are picked with <c>rows</c>.</param>
    /// <param name="y0">The initial states, <c>[B, ...]</c>, float32 or float64, on the device to solve on.</param>
    /// <param name="t0">Each row's start time, <c>[B]</c>, floating point, on y0's device.</param>
    /// <param name="t1">Each row's end time, <c>[B]</c>; rows may integrate in either direction, and a row with t1 = t0 finishes at once.</param>
    /// <param name="options">How to solve; default adaptive with rtol 1e-3, atol 1e-6.</param>
    /// <returns>The solution, owned by the caller: <see cref="OdeSolution.Y"/> <c>[B, ...]</c> at each row's t1 (and <see cref="OdeSolution.Ys"/> at <see cref="SolverOptions.OutputTimes"/>, each row inside its own span), per-row status and statistics.</returns>
    /// <exception cref="ArgumentException">An argument is invalid (shape, dtype, device, tolerance, times).</exception>
    /// <exception cref="OdeSolverException">Rows failed and <see cref="SolverOptions.ThrowOnFailure"/> is set.</exception>
    public static OdeSolution Solve(RungeKuttaScheme scheme, Func<Tensor, Tensor, Tensor, Tensor> f, Tensor y0, Tensor t0, Tensor t1, SolverOptions? options = null) =>
        Solve(scheme, f, y0, (y, o) => SolveTimes.Rows(y, t0, t1, o.OutputTimes), options, observer: null);

    /// <summary>Solves a batch with the given scheme over a time grid, returning the state at every time of it.</summary>
    /// <param name="scheme">The scheme; adaptive solves need one with embedded weights.</param>
    /// <param name="f">The dynamics with the rows' indices: <c>(t [B'], y [B', ...], rows [B'] int64) → dy/dt [B', ...]</c>; once rows finish only the running ones are evaluated, so per-row parameters are picked with <c>rows</c>.</param>
    /// <param name="y0">The initial states, <c>[B, ...]</c>, float32 or float64, on the device to solve on.</param>
    /// <param name="ts">The time grid, <c>[T]</c> shared or <c>[B, T]</c> per row, T ≥ 2, strictly increasing or decreasing in each row, on y0's device: its first time is the row's start and its last the row's end (torchdiffeq's <c>odeint(func, y0, t)</c>).</param>
    /// <param name="options">How to solve; default adaptive with rtol 1e-3, atol 1e-6.</param>
    /// <returns>The solution, owned by the caller: <see cref="OdeSolution.Ys"/> <c>[B, T, ...]</c> with <c>Ys[:, 0] == y0</c>, and <see cref="OdeSolution.Y"/> <c>[B, ...]</c> at each row's last time, per-row status and statistics.</returns>
    /// <exception cref="ArgumentException">An argument is invalid (shape, dtype, device, tolerance, times).</exception>
    /// <exception cref="OdeSolverException">Rows failed and <see cref="SolverOptions.ThrowOnFailure"/> is set.</exception>
    public static OdeSolution Solve(RungeKuttaScheme scheme, Func<Tensor, Tensor, Tensor, Tensor> f, Tensor y0, Tensor ts, SolverOptions? options = null) =>
        Solve(scheme, f, y0, (y, o) => SolveTimes.Grid(y, ts, o.OutputTimes), options, observer: null);

    /// <summary>Solves a batch with the given scheme from <paramref name="t0"/> to <paramref name="t1"/> for every row.</summary>
    /// <param name="scheme">The scheme; adaptive solves need one with embedded weights.</param>
    /// <param name="f">The dynamics module <c>(t [B'], y [B', ...]) → dy/dt [B', ...]</c>, called through <c>call</c> so that hooks run.</param>
    /// <param name="y0">The initial states, <c>[B, ...]</c>, float32 or float64, on the device to solve on.</param>
    /// <param name="t0">The start time, finite.</param>
    /// <param name="t1">The end time, finite; less than <paramref name="t0"/> integrates backwards.</param>
    /// <param name="options">How to solve; default adaptive with rtol 1e-3, atol 1e-6.</param>
    /// <returns>The solution, owned by the caller: <see cref="OdeSolution.Y"/> <c>[B, ...]</c> at t1 (and <see cref="OdeSolution.Ys"/> <c>[B, T, ...]</c> at <see cref="SolverOptions.OutputTimes"/>), per-row status and statistics.</returns>
    /// <exception cref="ArgumentException">An argument is invalid (shape, dtype, device, tolerance, times).</exception>
    /// <exception cref="OdeSolverException">Rows failed and <see cref="SolverOptions.ThrowOnFailure"/> is set.</exception>
    public static OdeSolution Solve(RungeKuttaScheme scheme, nn.Module<Tensor, Tensor, Tensor> f, Tensor y0, double t0, double t1, SolverOptions? options = null) =>
        Solve(scheme, Rows(f), y0, (y, o) => SolveTimes.Scalar(y, t0, t1, o.OutputTimes), options, observer: null);

    /// <summary>Solves a batch with the given scheme over each row's own span, from <c>t0[b]</c> to <c>t1[b]</c> (each row is bit-identical to that row solved alone).</summary>
    /// <param name="scheme">The scheme; adaptive solves need one with embedded weights.</param>
    /// <param name="f">The dynamics module <c>(t [B'], y [B', ...]) → dy/dt [B', ...]</c>, called through <c>call</c> so that hooks run.</param>
    /// <param name="y0">The initial states, <c>[B, ...]</c>, float32 or float64, on the device to solve on.</param>
    /// <param name="t0">Each row's start time, <c>[B]</c>, floating point, on y0's device.</param>
    /// <param name="t1">Each row's end time, <c>[B]</c>; rows may integrate in either direction, and a row with t1 = t0 finishes at once.</param>
    /// <param name="options">How to solve; default adaptive with rtol 1e-3, atol 1e-6.</param>
    /// <returns>The solution, owned by the caller: <see cref="OdeSolution.Y"/> <c>[B, ...]</c> at each row's t1 (and <see cref="OdeSolution.Ys"/> at <see cref="SolverOptions.OutputTimes"/>, each row inside its own span), per-row status and statistics.</returns>
    /// <exception cref="ArgumentException">An argument is invalid (shape, dtype, device, tolerance, times).</exception>
    /// <exception cref="OdeSolverException">Rows failed and <see cref="SolverOptions.ThrowOnFailure"/> is set.</exception>
    public static OdeSolution Solve(RungeKuttaScheme scheme, nn.Module<Tensor, Tensor, Tensor> f, Tensor y0, Tensor t0, Tensor t1, SolverOptions? options = null) =>
        Solve(scheme, Rows(f), y0, (y, o) => SolveTimes.Rows(y, t0, t1, o.OutputTimes), options, observer: null);

    /// <summary>Solves a batch with the given scheme over a time grid, returning the state at every time of it.</summary>
    /// <param name="scheme">The scheme; adaptive solves need one with embedded weights.</param>
    /// <param name="f">The dynamics module <c>(t [B'], y [B', ...]) → dy/dt [B', ...]</c>, called through <c>call</c> so that hooks run.</param>
    /// <param name="y0">The initial states, <c>[B, ...]</c>, float32 or float64, on the device to solve on.</param>
    /// <param name="ts">The time grid, <c>[T]</c> shared or <c>[B, T]</c> per row, T ≥ 2, strictly increasing or decreasing in each row, on y0's device: its first time is the row's start and its last the row's end (torchdiffeq's <c>odeint(func, y0, t)</c>).</param>
    /// <param name="options">How to solve; default adaptive with rtol 1e-3, atol 1e-6.</param>
    /// <returns>The solution, owned by the caller: <see cref="OdeSolution.Ys"/> <c>[B, T, ...]</c> with <c>Ys[:, 0] == y0</c>, and <see cref="OdeSolution.Y"/> <c>[B, ...]</c> at each row's last time, per-row status and statistics.</returns>
    /// <exception cref="ArgumentException">An argument is invalid (shape, dtype, device, tolerance, times).</exception>
    /// <exception cref="OdeSolverException">Rows failed and <see cref="SolverOptions.ThrowOnFailure"/> is set.</exception>
    public static OdeSolution Solve(RungeKuttaScheme scheme, nn.Module<Tensor, Tensor, Tensor> f, Tensor y0, Tensor ts, SolverOptions? options = null) =>
        Solve(scheme, Rows(f), y0, (y, o) => SolveTimes.Grid(y, ts, o.OutputTimes), options, observer: null);
}
