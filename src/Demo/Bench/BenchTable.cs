using System.Globalization;
using NeuralOde.Demo.Cli;
using Spectre.Console;

namespace NeuralOde.Demo.Bench;

/// <summary>Renders benchmark results as a table, with the machine facts the numbers depend on.</summary>
internal static class BenchTable
{
    /// <summary>Writes the machine line and the results table.</summary>
    /// <param name="console">Where to write.</param>
    /// <param name="report">The report.</param>
    /// <param name="compareShared">Whether to add the per-row vs shared-step columns.</param>
    public static void Write(IAnsiConsole console, BenchReport report, bool compareShared)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(report);
        var m = report.Machine;
        console.WriteLine(
            $"threads: {m.Threads} · load average: {m.LoadAverageBefore} (before), {m.LoadAverageAfter ?? "n/a"} (after) · " +
            $"{m.Cpu}, {m.LogicalCores} logical cores · {m.Dotnet} · TorchSharp {m.TorchSharp}");

        var table = Output.Styled(new Table(), console)
            .AddColumn("Problem")
            .AddColumn("Scheme")
            .AddColumn("Mode")
            .AddColumn("DType")
            .AddColumn("Status")
            .AddColumn(new TableColumn("Time ms").RightAligned())
            .AddColumn(new TableColumn("Floor ms").RightAligned())
            .AddColumn(new TableColumn("Overhead").RightAligned())
            .AddColumn(new TableColumn("CPU ms").RightAligned())
            .AddColumn(new TableColumn("Overhead CPU").RightAligned())
            .AddColumn(new TableColumn("NFE").RightAligned())
            .AddColumn(new TableColumn("Row-evals").RightAligned())
            .AddColumn(new TableColumn("Accepted").RightAligned())
            .AddColumn(new TableColumn("Rejected").RightAligned())
            .AddColumn(new TableColumn("Iterations").RightAligned())
            .AddColumn(new TableColumn("Tensors/it").RightAligned())
            .AddColumn(new TableColumn("Host reads/it").RightAligned())
            .AddColumn(new TableColumn("Overhead CPU/it µs").RightAligned())
            .AddColumn(new TableColumn("Err rel L2").RightAligned())
            .AddColumn(new TableColumn("Err max abs").RightAligned());
        if (compareShared)
        {
            table.AddColumn(new TableColumn("Row-evals ÷").RightAligned());
            table.AddColumn(new TableColumn("Speed-up wall").RightAligned());
            table.AddColumn(new TableColumn("Speed-up CPU").RightAligned());
        }

        foreach (var r in report.Results)
        {
            var cells = new List<string>
            {
                r.Problem,
                r.Scheme,
                r.Mode,
                r.DType == "float64" ? "f64" : "f32",
                StatusText(r),
                Fixed(r.WallMsMedian),
                Fixed(r.FloorMsMedian),
                r.Overhead.ToString("0.00", CultureInfo.InvariantCulture),
                Fixed(r.CpuMsMedian),
                r.OverheadCpu.ToString("0.00", CultureInfo.InvariantCulture),
                r.Nfe.ToString(CultureInfo.InvariantCulture),
                r.RowEvaluations.ToString(CultureInfo.InvariantCulture),
                Steps(r.AcceptedMean, r.AcceptedMax),
                Steps(r.RejectedMean, r.RejectedMax),
                r.Iterations.ToString(CultureInfo.InvariantCulture),
                PerIteration(r.SolverTensors, r.Iterations, "0.0"),
                PerIteration(r.HostReads, r.Iterations, "0.00"),
                PerIteration((r.CpuMsMedian - r.FloorCpuMsMedian) * 1000, r.Iterations, "0"),
                Scientific(r.ErrRelL2),
                Scientific(r.ErrMaxAbs),
            };
            if (compareShared)
            {
                cells.Add(Ratio(r.SharedRowEvaluationRatio));
                cells.Add(Ratio(r.SharedWallTimeRatio));
                cells.Add(Ratio(r.SharedCpuTimeRatio));
            }

            table.AddRow(cells.Select(Markup.Escape).ToArray());
        }

        console.Write(table);
        console.WriteLine(
            "Time: median wall time of the timed solves. Floor: the same dynamics calls (same batch sizes) alone. " +
            "Overhead = Time / Floor. CPU ms and Overhead CPU: the same in CPU time of the solving thread (steady under load). NFE: batched dynamics calls. Row-evals: rows evaluated, summed. " +
            "Accepted/Rejected: per-row mean (max). Iterations: of the solver loop; Tensors/it: tensors the solver created per iteration (the dynamics' left out); " +
            "Host reads/it: per-row values read out of tensors per iteration; " +
            "Overhead CPU/it: (CPU ms − the floor's) per iteration." +
            (compareShared ? " Row-evals ÷ and Speed-up: the shared-step run's row evaluations and times divided by the per-row run's." : ""));
    }

    /// <summary>Summarises the statuses: <c>ok</c> when every row succeeded, else the count per status.</summary>
    /// <param name="result">The result.</param>
    /// <returns>The text.</returns>
    public static string StatusText(BenchResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return result.Succeeded
            ? "ok"
            : string.Join(", ", result.Statuses.Select(static kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Key} {kv.Value}")));
    }

    private static string Fixed(double ms) => ms switch
    {
        >= 100 => ms.ToString("0", CultureInfo.InvariantCulture),
        >= 10 => ms.ToString("0.0", CultureInfo.InvariantCulture),
        >= 1 => ms.ToString("0.00", CultureInfo.InvariantCulture),
        _ => ms.ToString("0.000", CultureInfo.InvariantCulture),
    };

    private static string Scientific(double value) =>
        double.IsFinite(value) ? value.ToString("0.0e+00", CultureInfo.InvariantCulture) : value > 0 ? "inf" : "nan";

    private static string Steps(double mean, long max) =>
        Math.Abs(mean - max) < 1e-9
            ? max.ToString(CultureInfo.InvariantCulture)
            : string.Create(CultureInfo.InvariantCulture, $"{mean:0.0} ({max})");

    private static string PerIteration(double total, long iterations, string format) =>
        iterations > 0 && double.IsFinite(total) ? (total / iterations).ToString(format, CultureInfo.InvariantCulture) : "–";

    private static string Ratio(double? value) =>
        value is double v ? v.ToString("0.00", CultureInfo.InvariantCulture) + "×" : "";
}
