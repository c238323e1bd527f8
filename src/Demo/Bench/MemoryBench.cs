using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using NeuralOde.Solving;
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
            Ode.Solve(scheme, warm.F, warm.Y0, 0.0, memoryCase.T1, options).Dispose();
        }

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var baseline = ResidentMemory.ResetBytes();
        if (baseline is null)
        {
            return result with { Status = "error: the peak resident size cannot be reset (/proc/self/clear_refs) or read (/proc/self/status) here." };
        }

        using var measured = NewDisposeScope();
        var clock = Stopwatch.StartNew();
        using var solution = Ode.Solve(scheme, problem.F, problem.Y0, 0.0, memoryCase.T1, options);
        var seconds = clock.Elapsed.TotalSeconds;
        var peak = ResidentMemory.PeakBytes();

        var statuses = solution.Statuses.GroupBy(static s => s).ToDictionary(static g => g.Key.ToString(), static g => (long)g.Count());
        var exact = problem.Reference(memoryCase.T1);
        var error = solution.Y.to(ScalarType.Float64).sub(exact).norm().item<double>() / exact.norm().item<double>();
        var status = AnchorRecord.StatusOf(statuses, memoryCase.Rows, error);
        if (status == AnchorRecord.Ok && peak is null)
        {
            status = "error: the peak resident size (VmHWM) could not be read after the solve.";
        }

        return result with
        {
            BaselineRssBytes = baseline,
            PeakRssBytes = peak,
            BytesPerRow = peak is long p ? (double)(p - baseline.Value) / memoryCase.Rows : null,
            PeakBytesPerRow = peak is long q ? (double)q / memoryCase.Rows : null,
            TimeS = seconds,
            RowsPerSecond = memoryCase.Rows / seconds,
            Nfe = solution.Stats.Calls,
            StepsAcceptedMin = solution.Stats.AcceptedSteps.min().item<long>(),
            StepsAcceptedMax = solution.Stats.AcceptedSteps.max().item<long>(),
            ErrRelL2 = double.IsFinite(error) ? error : null,
            Status = status,
        };
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
        Status = status,
    };

    private static string OneLine(string text) =>
        string.Join(" ", text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Trim();
}
