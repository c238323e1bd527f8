using System.Text.Json.Serialization;

namespace NeuralOde.Demo.Bench;

/// <summary>What one benchmark case measured. Times are milliseconds; evaluations count rows or batched calls.</summary>
internal sealed record BenchResult
{
    /// <summary>Gets the problem's name.</summary>
    public required string Problem { get; init; }

    /// <summary>Gets the scheme's name.</summary>
    public required string Scheme { get; init; }

    /// <summary>Gets the mode: <c>per-row</c>, <c>shared</c> or <c>fixed N</c>.</summary>
    public required string Mode { get; init; }

    /// <summary>Gets the number of fixed steps, or null for adaptive solves.</summary>
    public int? FixedSteps { get; init; }

    /// <summary>Gets the relative tolerance (adaptive solves), as given (before any augmentation scale).</summary>
    public double? RelativeTolerance { get; init; }

    /// <summary>Gets the absolute tolerance (adaptive solves), as given.</summary>
    public double? AbsoluteTolerance { get; init; }

    /// <summary>Gets whether all rows shared one step size.</summary>
    public bool SharedStep { get; init; }

    /// <summary>Gets the compaction mode.</summary>
    public required string Compaction { get; init; }

    /// <summary>Gets the dtype solved in.</summary>
    public required string DType { get; init; }

    /// <summary>Gets the batch size B.</summary>
    public long Rows { get; init; }

    /// <summary>Gets the problem's state width D.</summary>
    public long StateWidth { get; init; }

    /// <summary>Gets the width of the state the solver integrates (D + 1 for the augmented stiff problem).</summary>
    public long SolverStateWidth { get; init; }

    /// <summary>Gets the number of rows per final status.</summary>
    public required Dictionary<string, long> Statuses { get; init; }

    /// <summary>Gets whether every row succeeded.</summary>
    public bool Succeeded { get; init; }

    /// <summary>Gets the median wall time of the timed solves.</summary>
    public double WallMsMedian { get; init; }

    /// <summary>Gets every timed solve's wall time.</summary>
    public required double[] WallMs { get; init; }

    /// <summary>Gets the number of batched calls of the dynamics (torchdiffeq's NFE).</summary>
    public long Nfe { get; init; }

    /// <summary>Gets the total number of row evaluations (rows actually evaluated, summed over calls).</summary>
    public long RowEvaluations { get; init; }

    /// <summary>Gets the largest number of evaluations of one row.</summary>
    public long MaxRowEvaluations { get; init; }

    /// <summary>Gets the iterations of the solver loop (<see cref="NeuralOde.Solving.SolverStats.Iterations"/>).</summary>
    public long Iterations { get; init; }

    /// <summary>Gets how many times the solver loop read per-row values out of tensors
    /// (<see cref="NeuralOde.Solving.SolverStats.HostReads"/>).</summary>
    public long HostReads { get; init; }

    /// <summary>Gets the tensors the solver created in the probe solve, those created inside the dynamics left out
    /// (TorchSharp's <c>DisposeScopeManager.Statistics</c>, as <c>LoopCostTests</c> counts them): every op that returns
    /// a new tensor adds one; in-place ops add none.</summary>
    public long SolverTensors { get; init; }

    /// <summary>Gets the mean accepted steps per row.</summary>
    public double AcceptedMean { get; init; }

    /// <summary>Gets the most accepted steps of one row.</summary>
    public long AcceptedMax { get; init; }

    /// <summary>Gets the mean rejected steps per row.</summary>
    public double RejectedMean { get; init; }

    /// <summary>Gets the most rejected steps of one row.</summary>
    public long RejectedMax { get; init; }

    /// <summary>Gets <c>‖y − ref‖₂ / ‖ref‖₂</c> (float64).</summary>
    public double ErrRelL2 { get; init; }

    /// <summary>Gets <c>max |y − ref|</c> (float64).</summary>
    public double ErrMaxAbs { get; init; }

    /// <summary>Gets the number of dynamics calls the floor replays (equal to <see cref="Nfe"/>).</summary>
    public long FloorEvaluations { get; init; }

    /// <summary>Gets the median time of the dynamics evaluations alone, call for call with the solve's batch sizes.</summary>
    public double FloorMsMedian { get; init; }

    /// <summary>Gets every floor replay's time.</summary>
    public required double[] FloorMs { get; init; }

    /// <summary>Gets the overhead ratio: median solve time / median floor time.</summary>
    public double Overhead { get; init; }

    /// <summary>Gets the median CPU time of the solving thread over the timed solves (steadier than wall time on a
    /// shared machine: with one libtorch thread it leaves out the time the thread waited for a core).</summary>
    public double CpuMsMedian { get; init; }

    /// <summary>Gets the median thread CPU time of the floor replays.</summary>
    public double FloorCpuMsMedian { get; init; }

    /// <summary>Gets the overhead ratio in thread CPU time: <see cref="CpuMsMedian"/> / <see cref="FloorCpuMsMedian"/>.</summary>
    public double OverheadCpu { get; init; }

    /// <summary>Gets whether the CPU columns are thread CPU time (false: the wall clock stood in).</summary>
    public bool CpuIsThreadTime { get; init; }

    /// <summary>Gets the timed repeats.</summary>
    public int Repeats { get; init; }

    /// <summary>Gets /proc/loadavg's 1-minute load average right after the case, or null.</summary>
    public double? LoadAverage1Min { get; init; }

    /// <summary>Gets the untimed warm-up solves.</summary>
    public int Warmup { get; init; }

    /// <summary>Gets, for a per-row case compared with its shared-step run, the shared run's row evaluations divided
    /// by this run's (how many times fewer rows were evaluated per row).</summary>
    public double? SharedRowEvaluationRatio { get; init; }

    /// <summary>Gets, for a per-row case compared with its shared-step run, the shared run's median wall time divided
    /// by this run's (the speed-up of per-row steps).</summary>
    public double? SharedWallTimeRatio { get; init; }

    /// <summary>Gets, for a per-row case compared with its shared-step run, the shared run's median thread CPU time
    /// divided by this run's.</summary>
    public double? SharedCpuTimeRatio { get; init; }
}

/// <summary>The machine and settings a benchmark ran with, and its results (the <c>--json</c> file).</summary>
internal sealed record BenchReport
{
    /// <summary>Gets the machine.</summary>
    public required MachineInfo Machine { get; init; }

    /// <summary>Gets the benchmark folder.</summary>
    public required string Data { get; init; }

    /// <summary>Gets the command-line arguments.</summary>
    public required string[] Arguments { get; init; }

    /// <summary>Gets when the run started (UTC, ISO 8601).</summary>
    public required string StartedUtc { get; init; }

    /// <summary>Gets the results, in the order they ran.</summary>
    public required List<BenchResult> Results { get; init; }
}

/// <summary>Facts about the machine that a benchmark table needs beside it.</summary>
internal sealed record MachineInfo
{
    /// <summary>Gets the CPU model (from /proc/cpuinfo), or "unknown".</summary>
    public required string Cpu { get; init; }

    /// <summary>Gets the logical processors visible to the process.</summary>
    public int LogicalCores { get; init; }

    /// <summary>Gets the OS description.</summary>
    public required string Os { get; init; }

    /// <summary>Gets the .NET runtime version.</summary>
    public required string Dotnet { get; init; }

    /// <summary>Gets the TorchSharp version.</summary>
    public required string TorchSharp { get; init; }

    /// <summary>Gets libtorch's intra-op thread count during the run.</summary>
    public int Threads { get; init; }

    /// <summary>Gets /proc/loadavg's 1-, 5- and 15-minute load averages before the run.</summary>
    public required string LoadAverageBefore { get; init; }

    /// <summary>Gets the load averages after the run.</summary>
    public string? LoadAverageAfter { get; set; }
}

/// <summary>System.Text.Json metadata for the benchmark files and report (snake_case, like the benchmark's own JSON).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    WriteIndented = true,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip)]
[JsonSerializable(typeof(ProblemHeader))]
[JsonSerializable(typeof(BenchManifest))]
[JsonSerializable(typeof(BenchReport))]
[JsonSerializable(typeof(AnchorReport))]
[JsonSerializable(typeof(MemoryResult))]
[JsonSerializable(typeof(MemoryReport))]
internal sealed partial class BenchJsonContext : JsonSerializerContext
{
}
