using System.Diagnostics;
using NeuralOde.Solving;
using NeuralOde.Stepping;
using TorchSharp;
using static TorchSharp.torch;

namespace NeuralOde.Demo.Bench;

/// <summary>One benchmark case: a problem solved with a scheme in one mode.</summary>
internal sealed record BenchCase
{
    /// <summary>Gets the scheme.</summary>
    public required RungeKuttaScheme Scheme { get; init; }

    /// <summary>Gets the number of equal fixed steps, or null for an adaptive solve.</summary>
    public int? FixedSteps { get; init; }

    /// <summary>Gets the relative tolerance of adaptive solves.</summary>
    public double RelativeTolerance { get; init; } = 1e-3;

    /// <summary>Gets the absolute tolerance of adaptive solves.</summary>
    public double AbsoluteTolerance { get; init; } = 1e-6;

    /// <summary>Gets whether all rows share one step size (torchdiffeq's mode), as a baseline.</summary>
    public bool SharedStep { get; init; }

    /// <summary>Gets how finished rows are taken out of the work.</summary>
    public CompactionMode Compaction { get; init; } = CompactionMode.Auto;

    /// <summary>Gets the label of the mode: <c>fixed N</c>, <c>shared</c> or <c>per-row</c>.</summary>
    public string Mode => FixedSteps is int n ? $"fixed {n}" : SharedStep ? "shared" : "per-row";

    /// <summary>Builds the solver options for a problem's dynamics.</summary>
    /// <returns>The options.</returns>
    public SolverOptions Options()
    {
        if (FixedSteps is int steps)
        {
            return SolverOptions.FixedSteps(steps) with { Compaction = Compaction };
        }

        return SolverOptions.Adaptive(RelativeTolerance, AbsoluteTolerance) with
        {
            SharedStepSize = SharedStep,
            Compaction = Compaction,
        };
    }
}

/// <summary>
/// Runs benchmark cases: untimed warm-up solves (the first also records statistics, errors and the sequence of
/// batch sizes the dynamics was called with), then timed solves interleaved with timed replays of the same
/// dynamics evaluations alone (the floor).
/// </summary>
/// <param name="repeats">Timed solves (and floor replays); the median is reported. 0 measures only the work and the
/// errors of the untimed solve (times and overheads are then NaN).</param>
/// <param name="warmup">Untimed solves before timing; at least one solve always runs untimed.</param>
/// <param name="anchorRepeats">Whether the timed repeats follow the anchors' rule (<see cref="AnchorTiming"/>) from the
/// first solve's time rather than <paramref name="repeats"/> alone.</param>
/// <param name="slowRepeats">Under the anchors' rule, the most repeats of a slow case.</param>
internal sealed class BenchRunner(int repeats, int warmup, bool anchorRepeats = false, int slowRepeats = AnchorTiming.SlowRepeats)
{
    /// <summary>Gets the number of timed repeats.</summary>
    public int Repeats { get; } = repeats >= 0 ? repeats : throw new ArgumentOutOfRangeException(nameof(repeats), "Repeats cannot be negative.");

    /// <summary>Gets whether the timed repeats follow the anchors' rule.</summary>
    public bool AnchorRepeats { get; } = anchorRepeats;

    /// <summary>Gets the number of untimed warm-up solves.</summary>
    public int Warmup { get; } = warmup >= 0 ? warmup : throw new ArgumentOutOfRangeException(nameof(warmup), "Warm-up cannot be negative.");

    /// <summary>Runs one case.</summary>
    /// <param name="problem">The loaded problem (for the reference solution).</param>
    /// <param name="dynamics">The problem's dynamics.</param>
    /// <param name="benchCase">What to run.</param>
    /// <returns>The measured result.</returns>
    public BenchResult Run(BenchProblem problem, BenchDynamics dynamics, BenchCase benchCase)
    {
        ArgumentNullException.ThrowIfNull(problem);
        ArgumentNullException.ThrowIfNull(dynamics);
        ArgumentNullException.ThrowIfNull(benchCase);
        var options = benchCase.Options();
        var header = problem.Header;
        var t0 = header.T0;
        var t1 = header.T1;

        using var noGrad = no_grad();

        // Untimed: the probe solve records what the solve did and what the dynamics were called with.
        // It also counts the tensors the solver creates (those created inside the dynamics subtracted), as LoopCostTests
        // does: TorchSharp's count of tensors made, which every op that returns a new tensor adds to.
        var sizes = new List<long>();
        long inDynamics = 0;
        Tensor Recording(Tensor t, Tensor y, Tensor rows)
        {
            sizes.Add(y.size(0));
            var before = TensorsCreated();
            var slope = dynamics.F(t, y, rows);
            inDynamics += TensorsCreated() - before;
            return slope;
        }

        Measured probe;
        long solverTensors;
        using (var scope = NewDisposeScope())
        {
            var start = TensorsCreated();
            using var solution = Ode.Solve(benchCase.Scheme, Recording, dynamics.Y0, t0, t1, options);
            solverTensors = TensorsCreated() - start - inDynamics;
            probe = Measure(problem, dynamics, solution);
        }

        for (var i = 1; i < Warmup; i++)
        {
            using var scope = NewDisposeScope();
            Ode.Solve(benchCase.Scheme, dynamics.F, dynamics.Y0, t0, t1, options).Dispose();
        }

        // Under the anchors' rule the repeats follow from a warm solve's time (the probe's includes compiling the code).
        var timed = AnchorRepeats && Repeats > 0 ? AnchorTiming.Repeats(Repeats, WarmSolveSeconds(benchCase, dynamics, t0, t1, options), slowRepeats) : Repeats;

        // The floor's inputs: the first n rows of the initial state for every batch size the solve used.
        using var floorInputs = new FloorInputs(dynamics, sizes, t0);
        if (timed > 0)
        {
            _ = floorInputs.Replay(); // warm the replay path too
        }

        var solveTimes = new double[timed];
        var floorTimes = new double[timed];
        var solveCpu = new double[timed];
        var floorCpu = new double[timed];
        for (var r = 0; r < timed; r++)
        {
            Collect();
            var cpu = ThreadClock.NowMs();
            var watch = Stopwatch.StartNew();
            using (var scope = NewDisposeScope())
            {
                var solution = Ode.Solve(benchCase.Scheme, dynamics.F, dynamics.Y0, t0, t1, options);
                watch.Stop();
                solveCpu[r] = ThreadClock.NowMs() - cpu;
                solution.Dispose();
            }

            solveTimes[r] = watch.Elapsed.TotalMilliseconds;

            Collect();
            (floorTimes[r], floorCpu[r]) = floorInputs.Replay();
        }

        var solveMedian = MedianOrNaN(solveTimes);
        var floorMedian = MedianOrNaN(floorTimes);
        var solveCpuMedian = MedianOrNaN(solveCpu);
        var floorCpuMedian = MedianOrNaN(floorCpu);
        return new BenchResult
        {
            Problem = problem.Name,
            Scheme = benchCase.Scheme.Name,
            Mode = benchCase.Mode,
            FixedSteps = benchCase.FixedSteps,
            RelativeTolerance = benchCase.FixedSteps is null ? benchCase.RelativeTolerance : null,
            AbsoluteTolerance = benchCase.FixedSteps is null ? benchCase.AbsoluteTolerance : null,
            SharedStep = benchCase.SharedStep,
            Compaction = benchCase.Compaction.ToString().ToLowerInvariant(),
            DType = dynamics.DType == ScalarType.Float64 ? "float64" : "float32",
            Rows = dynamics.Y0.shape[0],
            StateWidth = dynamics.StateWidth,
            SolverStateWidth = dynamics.Y0.shape[1],
            Statuses = probe.Statuses,
            Succeeded = probe.Statuses.Count == 1 && probe.Statuses.ContainsKey(nameof(SolverStatus.Success)),
            WallMsMedian = solveMedian,
            WallMs = solveTimes,
            Nfe = probe.Calls,
            RowEvaluations = probe.RowEvaluations,
            MaxRowEvaluations = probe.MaxRowEvaluations,
            Iterations = probe.Iterations,
            HostReads = probe.HostReads,
            SolverTensors = solverTensors,
            AcceptedMean = probe.AcceptedMean,
            AcceptedMax = probe.AcceptedMax,
            RejectedMean = probe.RejectedMean,
            RejectedMax = probe.RejectedMax,
            ErrRelL2 = probe.ErrRelL2,
            ErrMaxAbs = probe.ErrMaxAbs,
            FloorEvaluations = sizes.Count,
            FloorMsMedian = floorMedian,
            FloorMs = floorTimes,
            Overhead = floorMedian > 0 ? solveMedian / floorMedian : double.NaN,
            CpuMsMedian = solveCpuMedian,
            FloorCpuMsMedian = floorCpuMedian,
            OverheadCpu = floorCpuMedian > 0 ? solveCpuMedian / floorCpuMedian : double.NaN,
            CpuIsThreadTime = ThreadClock.IsThreadCpuTime,
            Repeats = timed,
            Warmup = Math.Max(1, Warmup),
            LoadAverage1Min = Machine.LoadAverage1Min(),
        };
    }

    /// <summary>Returns the median of a sample (the mean of the middle two for an even count).</summary>
    /// <param name="values">The sample, not empty.</param>
    /// <returns>The median.</returns>
    public static double Median(IReadOnlyList<double> values)
    {
        ArgumentOutOfRangeException.ThrowIfZero(values.Count);
        var sorted = values.Order().ToArray();
        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    /// <summary>Computes the errors of a state against a reference, in float64 (PROBLEMS.md).</summary>
    /// <param name="y">The computed state.</param>
    /// <param name="reference">The reference.</param>
    /// <returns><c>‖y − ref‖₂ / ‖ref‖₂</c> and <c>max |y − ref|</c>.</returns>
    public static (double RelL2, double MaxAbs) Errors(Tensor y, Tensor reference)
    {
        using var scope = NewDisposeScope();
        var diff = y.to(ScalarType.Float64).sub(reference.to(ScalarType.Float64));
        var relL2 = diff.square().sum().sqrt().item<double>() / reference.to(ScalarType.Float64).square().sum().sqrt().item<double>();
        var maxAbs = diff.abs().max().item<double>();
        if (!diff.isfinite().all().item<bool>())
        {
            maxAbs = double.PositiveInfinity;
            relL2 = double.PositiveInfinity;
        }

        return (relL2, maxAbs);
    }

    private static Measured Measure(BenchProblem problem, BenchDynamics dynamics, OdeSolution solution)
    {
        var stats = solution.Stats;
        var (relL2, maxAbs) = Errors(solution.Y, problem["ref_yT"]);
        var statuses = solution.Statuses
            .GroupBy(static s => s)
            .OrderBy(static g => (long)g.Key)
            .ToDictionary(static g => g.Key.ToString(), static g => (long)g.Count());
        var accepted = stats.AcceptedSteps.to(ScalarType.Float64);
        var rejected = stats.RejectedSteps.to(ScalarType.Float64);
        return new Measured(
            stats.Calls,
            stats.RowEvaluations,
            stats.MaxFunctionEvaluations,
            stats.Iterations,
            stats.HostReads,
            accepted.mean().item<double>(),
            stats.AcceptedSteps.max().item<long>(),
            rejected.mean().item<double>(),
            stats.RejectedSteps.max().item<long>(),
            relL2,
            maxAbs,
            statuses);
    }

    private static long TensorsCreated()
    {
        var statistics = DisposeScopeManager.Statistics;
        return statistics.CreatedInScopeCount + statistics.CreatedOutsideScopeCount;
    }

    private static double MedianOrNaN(IReadOnlyList<double> values) => values.Count == 0 ? double.NaN : Median(values);

    private static void Collect()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    private sealed record Measured(
        long Calls,
        long RowEvaluations,
        long MaxRowEvaluations,
        long Iterations,
        long HostReads,
        double AcceptedMean,
        long AcceptedMax,
        double RejectedMean,
        long RejectedMax,
        double ErrRelL2,
        double ErrMaxAbs,
        Dictionary<string, long> Statuses);

    // One untimed solve's wall time, in seconds.
    private static double WarmSolveSeconds(BenchCase benchCase, BenchDynamics dynamics, double t0, double t1, SolverOptions options)
    {
        using var scope = NewDisposeScope();
        var watch = Stopwatch.StartNew();
        using var solution = Ode.Solve(benchCase.Scheme, dynamics.F, dynamics.Y0, t0, t1, options);
        return watch.Elapsed.TotalSeconds;
    }

    // The dynamics evaluated alone, call for call with the solve's batch sizes (the first n rows of y0, t = t0).
    private sealed class FloorInputs : IDisposable
    {
        private readonly BenchDynamics dynamics;
        private readonly (Tensor T, Tensor Y, Tensor Rows)[] calls;
        private readonly List<Tensor> owned = [];

        public FloorInputs(BenchDynamics dynamics, IReadOnlyList<long> sizes, double t0)
        {
            this.dynamics = dynamics;
            var bySize = new Dictionary<long, (Tensor, Tensor, Tensor)>();
            using var scope = NewDisposeScope();
            calls = new (Tensor, Tensor, Tensor)[sizes.Count];
            for (var i = 0; i < sizes.Count; i++)
            {
                var n = sizes[i];
                if (!bySize.TryGetValue(n, out var input))
                {
                    var y = dynamics.Y0.narrow(0, 0, n).contiguous().clone().DetachFromDisposeScope();
                    var t = full(n, t0, dtype: dynamics.DType, device: dynamics.Y0.device).DetachFromDisposeScope();
                    owned.Add(y);
                    owned.Add(t);
                    var rows = arange(n, dtype: ScalarType.Int64, device: dynamics.Y0.device).DetachFromDisposeScope();
                    owned.Add(rows);
                    input = (t, y, rows);
                    bySize.Add(n, input);
                }

                calls[i] = input;
            }
        }

        // Returns the wall and thread-CPU milliseconds of one replay.
        public (double Wall, double Cpu) Replay()
        {
            var cpu = ThreadClock.NowMs();
            var watch = Stopwatch.StartNew();
            foreach (var (t, y, rows) in calls)
            {
                using var scope = NewDisposeScope();
                dynamics.F(t, y, rows);
            }

            watch.Stop();
            return (watch.Elapsed.TotalMilliseconds, ThreadClock.NowMs() - cpu);
        }

        public void Dispose()
        {
            foreach (var tensor in owned)
            {
                tensor.Dispose();
            }
        }
    }
}
