using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using NeuralOde.Solving;
using NeuralOde.Stepping;
using TorchSharp;
using static TorchSharp.torch;

namespace NeuralOde.Demo.Bench;

/// <summary>
/// Measures the resident memory of one adaptive solve of an <see cref="IMemoryProblem"/>, each measurement in a
/// fresh process (so that no measurement reuses memory an earlier one left resident): the parent re-launches this
/// app as <c>bench-memory --child-out FILE</c> and reads the child's <see cref="MemoryResult"/> back.
/// </summary>
/// <remarks>
/// In the child: the inputs are built and a warm-up solve of at most 1024 rows runs (libtorch's and the solver's code
/// and allocator pools are then resident); then the baseline is VmRSS right after resetting the peak mark (writing 5
/// to /proc/self/clear_refs), the solve runs, and the peak is VmHWM read as soon as it returns, before any result is
/// read. <c>bytes_per_row = (peak − baseline) / rows</c> is what the solve adds per row, its outputs included.
/// </remarks>
internal static class MemoryBench
{
    /// <summary>Measures one case in this process.</summary>
    /// <param name="memoryCase">The case.</param>
    /// <returns>The measurement; its status says why when it failed.</returns>
    public static MemoryResult Measure(MemoryCase memoryCase)
    {
        ArgumentNullException.ThrowIfNull(memoryCase);
        torch.set_num_threads(memoryCase.Threads);
        var scheme = Schemes.Get(memoryCase.Scheme);
        var options = memoryCase.Options();
        var result = Empty(memoryCase, "ok");
        if (!scheme.HasErrorEstimate)
        {
            return result with { Status = $"error: {scheme.Name} has no error estimate; the memory of an adaptive solve needs one." };
        }

        using var noGrad = no_grad();
        using var problem = memoryCase.Create(memoryCase.Rows);
        using (var scope = NewDisposeScope())
        {
            using var warm = memoryCase.Create(memoryCase.WarmupRows);
            _ = Solve(memoryCase with { Rows = memoryCase.WarmupRows, BatchRows = Math.Max(1, memoryCase.WarmupRows / 4) }, scheme, warm, options, peakBeforeResults: false);
        }

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var baseline = ResidentMemory.ResetBytes();
        if (baseline is null)
        {
            return result with { Status = "error: the peak resident size cannot be reset (/proc/self/clear_refs) or read (/proc/self/status) here." };
        }

        var outcome = Solve(memoryCase, scheme, problem, options, peakBeforeResults: true);
        var error = Math.Sqrt(outcome.SquaredError) / Math.Sqrt(outcome.SquaredReference);
        var status = AnchorRecord.StatusOf(outcome.Statuses, memoryCase.Rows, error);
        if (status == AnchorRecord.Ok && outcome.Peak is null)
        {
            status = "error: the peak resident size (VmHWM) could not be read after the solve.";
        }

        return result with
        {
            BaselineRssBytes = baseline,
            PeakRssBytes = outcome.Peak,
            BytesPerRow = outcome.Peak is long p ? (double)(p - baseline.Value) / memoryCase.Rows : null,
            PeakBytesPerRow = outcome.Peak is long q ? (double)q / memoryCase.Rows : null,
            TimeS = outcome.Seconds,
            RowsPerSecond = memoryCase.Rows / outcome.Seconds,
            Nfe = outcome.Calls,
            StepsAcceptedMin = outcome.AcceptedMin,
            StepsAcceptedMax = outcome.AcceptedMax,
            ErrRelL2 = double.IsFinite(error) ? error : null,
            Status = status,
        };
    }

    // One solve of the whole problem, or a stream of it through MaxRowsInFlight rows; the peak is read when the solve
    // returns (a stream: when its last batch has been handed back), before the results are read. A stream's batches
    // are checked and disposed as they arrive, outside its timing.
    private static Outcome Solve(MemoryCase memoryCase, RungeKuttaScheme scheme, IMemoryProblem problem, SolverOptions options, bool peakBeforeResults)
    {
        using var scope = NewDisposeScope();
        long calls = 0;
        Tensor F(Tensor t, Tensor y, Tensor rows)
        {
            calls++;
            return problem.F(t, y, rows);
        }

        var statuses = new Dictionary<string, long>();
        var (squaredError, squaredReference) = (0.0, 0.0);
        var (acceptedMin, acceptedMax) = (long.MaxValue, long.MinValue);
        void Check(OdeSolution solution, long start)
        {
            using var check = NewDisposeScope();
            var rows = solution.Y.shape[0];
            var reference = problem.Reference(memoryCase.T1, start, rows);
            squaredError += solution.Y.to(ScalarType.Float64).sub(reference).square().sum().item<double>();
            squaredReference += reference.square().sum().item<double>();
            foreach (var group in solution.Statuses.GroupBy(static s => s))
            {
                statuses[group.Key.ToString()] = statuses.GetValueOrDefault(group.Key.ToString()) + group.Count();
            }

            acceptedMin = Math.Min(acceptedMin, solution.Stats.AcceptedSteps.min().item<long>());
            acceptedMax = Math.Max(acceptedMax, solution.Stats.AcceptedSteps.max().item<long>());
        }

        var clock = Stopwatch.StartNew();
        long? peak;
        if (memoryCase.MaxRowsInFlight is null)
        {
            using var solution = Ode.Solve(scheme, F, problem.Y0, 0.0, memoryCase.T1, options);
            clock.Stop();
            peak = peakBeforeResults ? ResidentMemory.PeakBytes() : null;
            Check(solution, 0);
        }
        else
        {
            IEnumerable<Tensor> Batches()
            {
                for (var start = 0L; start < memoryCase.Rows; start += memoryCase.BatchRows)
                {
                    yield return problem.Y0.narrow(0, start, Math.Min(memoryCase.BatchRows, memoryCase.Rows - start));
                }
            }

            var done = 0L;
            foreach (var solution in Ode.SolveStream(scheme, F, Batches(), 0.0, memoryCase.T1, options))
            {
                clock.Stop();
                using (solution)
                {
                    Check(solution, done);
                    done += solution.Y.shape[0];
                }

                clock.Start();
            }

            clock.Stop();
            peak = peakBeforeResults ? ResidentMemory.PeakBytes() : null;
        }

        return new Outcome(clock.Elapsed.TotalSeconds, peak, statuses, squaredError, squaredReference, calls, acceptedMin, acceptedMax);
    }

    /// <summary>Measures one case in a fresh process of this app.</summary>
    /// <param name="memoryCase">The case.</param>
    /// <param name="childArguments">The child's command line after the app (<see cref="ChildArguments"/>), without
    /// <c>--child-out</c>.</param>
    /// <returns>The child's measurement, or a result whose status says how the child failed.</returns>
    public static MemoryResult MeasureInFreshProcess(MemoryCase memoryCase, IReadOnlyList<string> childArguments)
    {
        ArgumentNullException.ThrowIfNull(memoryCase);
        ArgumentNullException.ThrowIfNull(childArguments);
        var resultFile = Path.Combine(Path.GetTempPath(), $"neuralode-memory-{Guid.NewGuid():N}.json");
        try
        {
            var start = SelfStart();
            foreach (var argument in childArguments.Append("--child-out").Append(resultFile))
            {
                start.ArgumentList.Add(argument);
            }

            start.RedirectStandardOutput = true;
            start.RedirectStandardError = true;
            start.UseShellExecute = false;
            using var child = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {start.FileName}.");
            var output = child.StandardOutput.ReadToEndAsync();
            var errors = child.StandardError.ReadToEndAsync();
            child.WaitForExit();
            var detail = OneLine(errors.Result) is { Length: > 0 } e ? e : OneLine(output.Result);
            if (child.ExitCode != 0 || !File.Exists(resultFile))
            {
                var why = child.ExitCode is 137 or -9 ? "killed (SIGKILL: out of memory?)" : $"exited with code {child.ExitCode}";
                return Empty(memoryCase, $"error: the measuring process {why}{(detail.Length > 0 ? ": " + detail : "")}");
            }

            using var stream = File.OpenRead(resultFile);
            return JsonSerializer.Deserialize(stream, BenchJsonContext.Default.MemoryResult)
                ?? Empty(memoryCase, "error: the measuring process wrote no result.");
        }
        finally
        {
            File.Delete(resultFile);
        }
    }

    /// <summary>The command line of a child measuring <paramref name="memoryCase"/>.</summary>
    /// <param name="memoryCase">The case.</param>
    /// <returns>The arguments after the app's name.</returns>
    public static string[] ChildArguments(MemoryCase memoryCase)
    {
        ArgumentNullException.ThrowIfNull(memoryCase);
        return
        [
            "bench-memory",
            "--problem", memoryCase.Problem,
            .. (memoryCase.Data is { } data ? (string[])["--data", data] : []),
            "--rows", memoryCase.Rows.ToString(CultureInfo.InvariantCulture),
            "--scheme", memoryCase.Scheme,
            "--dtype", memoryCase.DType == ScalarType.Float64 ? "float64" : "float32",
            "--rtol", memoryCase.Rtol.ToString("R", CultureInfo.InvariantCulture),
            "--atol", memoryCase.Atol.ToString("R", CultureInfo.InvariantCulture),
            "--t1", memoryCase.T1.ToString("R", CultureInfo.InvariantCulture),
            "--compaction", memoryCase.Compaction.ToString().ToLowerInvariant(),
            "--threads", memoryCase.Threads.ToString(CultureInfo.InvariantCulture),
            .. (memoryCase.MaxRowsInFlight is int inFlight
                ? (string[])["--max-rows-in-flight", inFlight.ToString(CultureInfo.InvariantCulture), "--batch-rows", memoryCase.BatchRows.ToString(CultureInfo.InvariantCulture)]
                : []),
        ];
    }

    // This app again: its apphost, or the dotnet host with the app's assembly (also when running inside a test host).
    private static ProcessStartInfo SelfStart()
    {
        var assembly = typeof(MemoryBench).Assembly.Location;
        var process = Environment.ProcessPath;
        var apphost = Path.Combine(Path.GetDirectoryName(assembly)!, Path.GetFileNameWithoutExtension(assembly));
        if (process is not null && string.Equals(Path.GetFullPath(process), Path.GetFullPath(apphost), StringComparison.Ordinal))
        {
            return new ProcessStartInfo(process);
        }

        var host = process is not null && Path.GetFileNameWithoutExtension(process) == "dotnet"
            ? process
            : Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        var start = new ProcessStartInfo(host);
        start.ArgumentList.Add(assembly);
        return start;
    }

    private sealed record Outcome(
        double Seconds,
        long? Peak,
        Dictionary<string, long> Statuses,
        double SquaredError,
        double SquaredReference,
        long Calls,
        long AcceptedMin,
        long AcceptedMax);

    private static MemoryResult Empty(MemoryCase memoryCase, string status) => new()
    {
        Problem = memoryCase.Problem,
        Rows = memoryCase.Rows,
        Scheme = memoryCase.Scheme,
        DType = memoryCase.DType == ScalarType.Float64 ? "float64" : "float32",
        Rtol = memoryCase.Rtol,
        Atol = memoryCase.Atol,
        T1 = memoryCase.T1,
        Compaction = memoryCase.Compaction.ToString().ToLowerInvariant(),
        Threads = memoryCase.Threads,
        MaxRowsInFlight = memoryCase.MaxRowsInFlight,
        BatchRows = memoryCase.MaxRowsInFlight is null ? null : memoryCase.BatchRows,
        Status = status,
    };

    private static string OneLine(string text) =>
        string.Join(" ", text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Trim();
}
