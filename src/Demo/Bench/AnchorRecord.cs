using System.Globalization;
using System.Text.Json.Serialization;
using NeuralOde.Solving;

namespace NeuralOde.Demo.Bench;

/// <summary>
/// One case in the anchor harness's record schema (<c>shared/anchors/README.md</c>, "Comparing another
/// implementation"), so that its <c>summarize.py</c> prints our results beside torchdiffeq's and torchode's. Records
/// join on <c>(problem, method, rtol | steps, mode, threads)</c>. Times are seconds; a value that was not measured is
/// null.
/// </summary>
internal sealed record AnchorRecord
{
    /// <summary>The status of a case whose every row succeeded with a finite state.</summary>
    public const string Ok = "ok";

    /// <summary>Gets the problem's name.</summary>
    [JsonPropertyName("problem")]
    public required string Problem { get; init; }

    /// <summary>Gets the method in torchdiffeq's lower-case spelling (<see cref="AnchorMethods"/>).</summary>
    [JsonPropertyName("method")]
    public required string Method { get; init; }

    /// <summary>Gets our scheme's own name.</summary>
    [JsonPropertyName("scheme")]
    public required string Scheme { get; init; }

    /// <summary>Gets the relative tolerance of an adaptive solve, or null for fixed steps.</summary>
    [JsonPropertyName("rtol")]
    public double? Rtol { get; init; }

    /// <summary>Gets the absolute tolerance of an adaptive solve, or null for fixed steps.</summary>
    [JsonPropertyName("atol")]
    public double? Atol { get; init; }

    /// <summary>Gets the number of equal steps of a fixed-step solve, or null for adaptive solves.</summary>
    [JsonPropertyName("steps")]
    public int? Steps { get; init; }

    /// <summary>Gets the mode as the anchors name it: <c>fwd</c>, <c>bptt</c> (backprop through the solver) or
    /// <c>adjoint</c>; ours alone: <c>fwd-shared</c> (one step size for the batch) and <c>checkpointed</c>.</summary>
    [JsonPropertyName("mode")]
    public required string Mode { get; init; }

    /// <summary>Gets libtorch's intra-op thread count.</summary>
    [JsonPropertyName("threads")]
    public int Threads { get; init; }

    /// <summary>Gets the dtype solved in.</summary>
    [JsonPropertyName("dtype")]
    public required string DType { get; init; }

    /// <summary>Gets the batch size B.</summary>
    [JsonPropertyName("B")]
    public long B { get; init; }

    /// <summary>Gets the problem's state width D.</summary>
    [JsonPropertyName("D")]
    public long D { get; init; }

    /// <summary>Gets the timed repeats.</summary>
    [JsonPropertyName("repeats")]
    public int Repeats { get; init; }

    /// <summary>Gets the median wall time of the timed repeats (solve, plus the backward pass of
    /// <c>L = 0.5·mean(y(t1)²)</c> for <c>bptt</c> and <c>adjoint</c>).</summary>
    [JsonPropertyName("time_s")]
    public double? TimeS { get; init; }

    /// <summary>Gets the minimum wall time of the timed repeats.</summary>
    [JsonPropertyName("time_min_s")]
    public double? TimeMinS { get; init; }

    /// <summary>Gets every timed repeat's wall time.</summary>
    [JsonPropertyName("time_all_s")]
    public required double[] TimeAllS { get; init; }

    /// <summary>Gets the median of the forward part of the timed repeats (gradient modes), or null.</summary>
    [JsonPropertyName("time_fwd_part_s")]
    public double? TimeForwardPartS { get; init; }

    /// <summary>Gets the median time of the same dynamics evaluations alone, each replay timed right after a timed
    /// repeat.</summary>
    [JsonPropertyName("floor_s")]
    public double? FloorS { get; init; }

    /// <summary>Gets the minimum floor time.</summary>
    [JsonPropertyName("floor_min_s")]
    public double? FloorMinS { get; init; }

    /// <summary>Gets every floor replay's time, in the order of <see cref="TimeAllS"/>.</summary>
    [JsonPropertyName("floor_all_s")]
    public required double[] FloorAllS { get; init; }

    /// <summary>Gets the median of the pairwise ratios repeat / its floor (the anchors' overhead).</summary>
    [JsonPropertyName("overhead")]
    public double? Overhead { get; init; }

    /// <summary>Gets the batched calls of the dynamics in the solve (torchdiffeq's NFE).</summary>
    [JsonPropertyName("nfe_fwd")]
    public long NfeForward { get; init; }

    /// <summary>Gets the batched calls of the dynamics in the backward pass (0 for forward solves and backprop).</summary>
    [JsonPropertyName("nfe_bwd")]
    public long NfeBackward { get; init; }

    /// <summary>Gets the rows evaluated, summed over the solve's calls (our per-row work; forward solves).</summary>
    [JsonPropertyName("row_evaluations")]
    public long? RowEvaluations { get; init; }

    /// <summary>Gets the iterations of the solver loop (forward solves), or null.</summary>
    [JsonPropertyName("iterations")]
    public long? Iterations { get; init; }

    /// <summary>Gets the tensors the solver created per iteration, the dynamics' left out (forward solves), or
    /// null.</summary>
    [JsonPropertyName("tensors_per_iteration")]
    public double? TensorsPerIteration { get; init; }

    /// <summary>Gets the solver loop's reads of per-row values out of tensors per iteration (forward solves), or
    /// null.</summary>
    [JsonPropertyName("host_reads_per_iteration")]
    public double? HostReadsPerIteration { get; init; }

    /// <summary>Gets the most accepted steps of one row.</summary>
    [JsonPropertyName("steps_accepted_max")]
    public long StepsAcceptedMax { get; init; }

    /// <summary>Gets the most rejected steps of one row.</summary>
    [JsonPropertyName("steps_rejected_max")]
    public long StepsRejectedMax { get; init; }

    /// <summary>Gets <c>‖y(t1) − ref‖₂ / ‖ref‖₂</c> in float64 against the problem's <c>ref_yT</c> (gradient modes: of
    /// the first pass's forward state), or null where the reference does not apply.</summary>
    [JsonPropertyName("err_rel_l2")]
    public double? ErrRelL2 { get; init; }

    /// <summary>Gets <c>max |y(t1) − ref|</c> in float64, or null.</summary>
    [JsonPropertyName("err_max_abs")]
    public double? ErrMaxAbs { get; init; }

    /// <summary>Gets <c>‖g − g_ref‖₂ / ‖g_ref‖₂</c> over the concatenated parameter gradients <c>[W1, b1, W2, b2]</c>
    /// against the problem's <c>ref_grad_*</c> (gradient modes), or null.</summary>
    [JsonPropertyName("grad_err_rel_l2")]
    public double? GradErrRelL2 { get; init; }

    /// <summary>Gets the status: <c>ok</c>, <c>diverged (…)</c> or <c>error: …</c> (the anchors' spelling, which
    /// <c>summarize.py</c> reads).</summary>
    [JsonPropertyName("status")]
    public required string Status { get; init; }

    /// <summary>Gets the 1-minute load average after the case.</summary>
    [JsonPropertyName("loadavg_1min")]
    public double? LoadAverage1Min { get; init; }

    /// <summary>Builds the record of a forward case.</summary>
    /// <param name="result">The case's result.</param>
    /// <param name="threads">libtorch's intra-op threads.</param>
    /// <returns>The record.</returns>
    public static AnchorRecord FromForward(BenchResult result, int threads)
    {
        ArgumentNullException.ThrowIfNull(result);
        var status = StatusOf(result.Statuses, result.Rows, result.ErrRelL2);
        var times = Seconds(result.WallMs);
        var floors = Seconds(result.FloorMs);
        return new AnchorRecord
        {
            Problem = result.Problem,
            Method = AnchorMethods.For(result.Scheme),
            Scheme = result.Scheme,
            Rtol = result.RelativeTolerance,
            Atol = result.AbsoluteTolerance,
            Steps = result.FixedSteps,
            Mode = result.SharedStep ? "fwd-shared" : "fwd",
            Threads = threads,
            DType = result.DType,
            B = result.Rows,
            D = result.StateWidth,
            Repeats = result.Repeats,
            TimeS = Median(times),
            TimeMinS = Min(times),
            TimeAllS = times,
            FloorS = Median(floors),
            FloorMinS = Min(floors),
            FloorAllS = floors,
            Overhead = PairwiseOverhead(times, floors),
            NfeForward = result.Nfe,
            NfeBackward = 0,
            RowEvaluations = result.RowEvaluations,
            Iterations = result.Iterations,
            TensorsPerIteration = result.Iterations > 0 ? (double)result.SolverTensors / result.Iterations : null,
            HostReadsPerIteration = result.Iterations > 0 ? (double)result.HostReads / result.Iterations : null,
            StepsAcceptedMax = result.AcceptedMax,
            StepsRejectedMax = result.RejectedMax,
            ErrRelL2 = Finite(result.ErrRelL2),
            ErrMaxAbs = Finite(result.ErrMaxAbs),
            GradErrRelL2 = null,
            Status = Timed(status, times, floors),
            LoadAverage1Min = result.LoadAverage1Min,
        };
    }

    /// <summary>Builds the record of a gradient case.</summary>
    /// <param name="result">The case's result.</param>
    /// <param name="threads">libtorch's intra-op threads.</param>
    /// <returns>The record.</returns>
    public static AnchorRecord FromGradient(GradientResult result, int threads)
    {
        ArgumentNullException.ThrowIfNull(result);
        var times = Seconds(result.TotalMs);
        var floors = Seconds(result.FloorMs);
        var status = result.Failure is { } failure
            ? failure
            : !double.IsNaN(result.GradientError) && !double.IsFinite(result.GradientError) ? "diverged (non-finite gradient)" : Ok;
        return new AnchorRecord
        {
            // Another end time is another problem: it must not join the anchors' records of this one.
            Problem = result.EndTimeOverridden ? string.Create(CultureInfo.InvariantCulture, $"{result.Problem}@t1={result.T1:R}") : result.Problem,
            Method = AnchorMethods.For(result.Scheme),
            Scheme = result.Scheme,
            Rtol = result.RelativeTolerance,
            Atol = result.AbsoluteTolerance,
            Steps = result.FixedSteps,
            Mode = result.Mode switch
            {
                "backprop" => "bptt",
                var other => other,
            },
            Threads = threads,
            DType = result.DType,
            B = result.Rows,
            D = result.StateWidth,
            Repeats = times.Length,
            TimeS = Median(times),
            TimeMinS = Min(times),
            TimeAllS = times,
            TimeForwardPartS = Median(Seconds(result.ForwardAllMs)),
            FloorS = Median(floors),
            FloorMinS = Min(floors),
            FloorAllS = floors,
            Overhead = PairwiseOverhead(times, floors),
            NfeForward = result.ForwardNfe,
            NfeBackward = result.BackwardNfe,
            StepsAcceptedMax = result.AcceptedSteps,
            ErrRelL2 = Finite(result.ErrRelL2),
            GradErrRelL2 = Finite(result.GradientError),
            Status = Timed(status, times, floors),
            LoadAverage1Min = result.LoadAverage1Min,
        };
    }

    /// <summary>The anchors' status of a solve from its rows' statuses: <c>ok</c> only when every row succeeded and
    /// the state is finite; non-finite rows make it <c>diverged (…)</c>; any other failed row makes it
    /// <c>error: …</c>, so that no failed solve is printed as a result.</summary>
    /// <param name="statuses">Rows per status name (<see cref="SolverStatus"/>).</param>
    /// <param name="rows">The batch size.</param>
    /// <param name="errRelL2">The state's relative error (infinite when the state is not finite).</param>
    /// <returns>The status text.</returns>
    public static string StatusOf(IReadOnlyDictionary<string, long> statuses, long rows, double errRelL2)
    {
        ArgumentNullException.ThrowIfNull(statuses);
        var failed = statuses.Where(static s => s.Key != nameof(SolverStatus.Success) && s.Value > 0).ToList();
        if (statuses.TryGetValue(nameof(SolverStatus.NonFinite), out var nonFinite) && nonFinite > 0)
        {
            return string.Create(CultureInfo.InvariantCulture, $"diverged (non-finite y(t1): NonFinite on {nonFinite} of {rows} rows)");
        }

        if (failed.Count > 0)
        {
            return "error: " + string.Join(", ", failed.Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Key} on {s.Value} of {rows} rows")));
        }

        return double.IsFinite(errRelL2) ? Ok : "diverged (non-finite y(t1))";
    }

    /// <summary>The median of the pairwise ratios time / floor, or null without pairs.</summary>
    /// <param name="times">The timed repeats.</param>
    /// <param name="floors">The floor replay after each repeat.</param>
    /// <returns>The overhead.</returns>
    public static double? PairwiseOverhead(IReadOnlyList<double> times, IReadOnlyList<double> floors)
    {
        ArgumentNullException.ThrowIfNull(times);
        ArgumentNullException.ThrowIfNull(floors);
        if (times.Count == 0 || times.Count != floors.Count)
        {
            return null;
        }

        return Finite(BenchRunner.Median([.. times.Zip(floors, static (t, f) => t / f)]));
    }

    // A case without timed repeats has no time to print: summarize.py would fail on it, and 0 would be a lie.
    private static string Timed(string status, double[] times, double[] floors) =>
        status == Ok && (times.Length == 0 || floors.Length != times.Length) ? "error: not timed (no timed repeats)" : status;

    private static double[] Seconds(IEnumerable<double> milliseconds) => [.. milliseconds.Select(static ms => ms / 1000)];

    private static double? Median(double[] values) => values.Length == 0 ? null : Finite(BenchRunner.Median(values));

    private static double? Min(double[] values) => values.Length == 0 ? null : Finite(values.Min());

    private static double? Finite(double value) => double.IsFinite(value) ? value : null;
}
