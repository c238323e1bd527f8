using NeuralOde.Stepping;
using static TorchSharp.torch;

namespace NeuralOde.Solving;

// Continuous batching: a stream of batches solved through one work set of at most SolverOptions.MaxRowsInFlight
// rows, refilled with pending rows as rows finish.
public static partial class Ode
{
    /// <summary>The rows in flight of a stream when <see cref="SolverOptions.MaxRowsInFlight"/> is not set.</summary>
    public const int DefaultMaxRowsInFlight = 65_536;

    /// <summary>
    /// Solves more rows than fit at once: the batches of <paramref name="y0Batches"/> stream through one work set of
    /// at most <see cref="SolverOptions.MaxRowsInFlight"/> rows. As rows finish they leave it and pending rows take
    /// their slots, so the work set stays full while rows of different lengths finish at different times (continuous
    /// batching). Every row's result is bit-identical to that row solved alone, so each batch's solution equals the
    /// batch solved alone with <see cref="Solve(RungeKuttaScheme, Func{Tensor, Tensor, Tensor, Tensor}, Tensor, double, double, SolverOptions?)"/>.
    /// </summary>
    /// <param name="scheme">The scheme.</param>
    /// <param name="f">The dynamics with the rows' indices: <c>(t [W], y [W, ...], rows [W] int64) → dy/dt [W, ...]</c>;
    /// rows are numbered across the stream (the first batch's rows 0…B₀−1, the next batch's from B₀ on), so per-row
    /// parameters are picked with <c>rows</c>.</param>
    /// <param name="y0Batches">The initial states, <c>[Bᵢ, ...]</c> each with Bᵢ ≥ 1, all of one dtype (float32 or
    /// float64), device and trailing shape; read lazily, one batch ahead of the rows in flight at most.</param>
    /// <param name="t0">The start time of every row, finite.</param>
    /// <param name="t1">The end time of every row, finite.</param>
    /// <param name="options">How to solve (adaptive or fixed steps); output times, events, per-row tolerances and a
    /// shared step size do not apply to a stream. Default adaptive with rtol 1e-3, atol 1e-6 and
    /// <see cref="DefaultMaxRowsInFlight"/> rows in flight.</param>
    /// <returns>One solution per batch, in the batches' order, each as soon as all its rows (and those of the batches
    /// before it) are done, owned by the caller: <see cref="OdeSolution.Y"/> <c>[Bᵢ, ...]</c>, statuses and per-row
    /// statistics (its <see cref="SolverStats.Calls"/>, <see cref="SolverStats.RowEvaluations"/> and
    /// <see cref="SolverStats.Iterations"/> count the loop's work while the batch had rows in flight). The stream runs
    /// without autograd.</returns>
    /// <exception cref="ArgumentException">An argument is invalid (a batch's shape, dtype or device, an option).</exception>
    public static IEnumerable<OdeSolution> SolveStream(RungeKuttaScheme scheme, Func<Tensor, Tensor, Tensor, Tensor> f, IEnumerable<Tensor> y0Batches, double t0, double t1, SolverOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(scheme);
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(y0Batches);
        options ??= new SolverOptions();
        if (!double.IsFinite(t0) || !double.IsFinite(t1))
        {
            throw new ArgumentException($"t0 and t1 must be finite; got t0 = {t0}, t1 = {t1}.", nameof(t0));
        }

        var what = options.OutputTimes is not null ? "OutputTimes"
            : options.Event is not null ? "Event"
            : options.RelativeToleranceRows is not null || options.AbsoluteToleranceRows is not null ? "per-row tolerances"
            : options.SharedStepSize ? "SharedStepSize"
            : null;
        if (what is not null)
        {
            throw new ArgumentException($"{what} does not apply to a stream of batches; solve such batches with Ode.Solve.", nameof(options));
        }

        var maxRows = options.MaxRowsInFlight ?? DefaultMaxRowsInFlight;
        return Stream(scheme, f, y0Batches, t0, t1, options, maxRows);
    }

    /// <summary>Solves a stream of batches with the scheme given by name; see
    /// <see cref="SolveStream(RungeKuttaScheme, Func{Tensor, Tensor, Tensor, Tensor}, IEnumerable{Tensor}, double, double, SolverOptions?)"/>.</summary>
    /// <param name="scheme">A registered scheme's name, for example <c>"DOPRI5"</c>.</param>
    /// <param name="f">The dynamics with the rows' indices (numbered across the stream).</param>
    /// <param name="y0Batches">The initial states, <c>[Bᵢ, ...]</c> each.</param>
    /// <param name="t0">The start time of every row.</param>
    /// <param name="t1">The end time of every row.</param>
    /// <param name="options">How to solve.</param>
    /// <returns>One solution per batch, in order.</returns>
    public static IEnumerable<OdeSolution> SolveStream(string scheme, Func<Tensor, Tensor, Tensor, Tensor> f, IEnumerable<Tensor> y0Batches, double t0, double t1, SolverOptions? options = null) =>
        SolveStream(Schemes.Get(scheme), f, y0Batches, t0, t1, options);

    /// <summary>Solves a stream of batches with the scheme given as a type argument; see
    /// <see cref="SolveStream(RungeKuttaScheme, Func{Tensor, Tensor, Tensor, Tensor}, IEnumerable{Tensor}, double, double, SolverOptions?)"/>.</summary>
    /// <typeparam name="TScheme">A generated scheme type, for example <c>DormandPrince54.Method</c>.</typeparam>
    /// <param name="f">The dynamics with the rows' indices (numbered across the stream).</param>
    /// <param name="y0Batches">The initial states, <c>[Bᵢ, ...]</c> each.</param>
    /// <param name="t0">The start time of every row.</param>
    /// <param name="t1">The end time of every row.</param>
    /// <param name="options">How to solve.</param>
    /// <returns>One solution per batch, in order.</returns>
    public static IEnumerable<OdeSolution> SolveStream<TScheme>(Func<Tensor, Tensor, Tensor, Tensor> f, IEnumerable<Tensor> y0Batches, double t0, double t1, SolverOptions? options = null)
        where TScheme : RungeKuttaScheme, IRungeKuttaScheme<TScheme> =>
        SolveStream(TScheme.Instance, f, y0Batches, t0, t1, options);

    // A stream's batch, checked against the first one's dtype, device and trailing shape.
    internal static Tensor CheckStreamBatch(Tensor? batch, long[] shape, ScalarType dtype, Device device, string name)
    {
        if (batch is null || batch.IsInvalid)
        {
            throw new ArgumentException("A batch of the stream is null or disposed.", name);
        }

        if (batch.dtype != dtype || batch.device_type != device.type || batch.dim() != shape.Length || batch.shape[0] < 1 || !batch.shape.Skip(1).SequenceEqual(shape.Skip(1)))
        {
            var trailing = string.Join(", ", shape.Skip(1));
            throw new ArgumentException(
                $"Every batch of the stream must be [B ≥ 1, {trailing}] {dtype} on {device}; got [{string.Join(", ", batch.shape)}] {batch.dtype} on {batch.device}.",
                name);
        }

        return batch;
    }

    private static IEnumerable<OdeSolution> Stream(RungeKuttaScheme scheme, Func<Tensor, Tensor, Tensor, Tensor> f, IEnumerable<Tensor> y0Batches, double t0, double t1, SolverOptions options, int maxRows)
    {
        using var batches = y0Batches.GetEnumerator();
        if (!batches.MoveNext())
        {
            yield break;
        }

        var first = batches.Current ?? throw new ArgumentException("A batch of the stream is null.", nameof(y0Batches));
        ValidateState(first);
        ValidateOptions(scheme, first, options);
        var plan = options.IsAdaptive ? null : FixedStepPlan.Create(options, [Math.Abs(t1 - t0)]);
        using var solver = BatchSolver.ForStream(scheme, f, first, options, plan, maxRows);
        foreach (var solution in solver.Stream(Rest(first, batches), t0, t1))
        {
            yield return solution;
        }
    }

    private static IEnumerable<Tensor> Rest(Tensor first, IEnumerator<Tensor> batches)
    {
        yield return first;
        while (batches.MoveNext())
        {
            yield return batches.Current;
        }
    }
}
