using System.Globalization;
using System.Text.Json;
using NeuralOde.Demo.Bench;
using NeuralOde.Demo.Cli;
using Spectre.Console;
using Spectre.Console.Cli;

namespace NeuralOde.Demo.Commands;

/// <summary>
/// <c>bench-memory</c>: the peak resident memory per row of an adaptive solve of a <c>[B, 2]</c> state (harmonic
/// oscillators with a frequency per row), each measurement in a fresh process (<see cref="MemoryBench"/>).
/// </summary>
/// <param name="console">Where to write the table.</param>
internal sealed class MemoryCommand(IAnsiConsole console) : Command<MemorySettings>
{
    /// <summary>The command's description, shown by <c>--help</c>.</summary>
    public const string Description =
        "Peak resident memory per row of one adaptive solve of a [[B, 2]] state (harmonic oscillators, ω per row), each measurement " +
        "in a fresh process: bytes per row = (VmHWM during the solve − VmRSS before it) / B, with time, NFE and the error against the exact solution.";

    /// <summary>Runs the command.</summary>
    /// <param name="context">The command context.</param>
    /// <param name="settings">The options.</param>
    /// <param name="cancellationToken">Stops between measurements.</param>
    /// <returns>0 when the measurements ran (a failed one is a row with its status).</returns>
    /// <exception cref="UsageException">The scheme is unknown or has no error estimate (exit code 2).</exception>
    public override int Execute(CommandContext context, MemorySettings settings, CancellationToken cancellationToken)
    {
        var scheme = Schemes.Get(settings.Scheme);
        if (!scheme.HasErrorEstimate)
        {
            throw new UsageException($"--scheme {scheme.Name} has no error estimate: bench-memory measures an adaptive solve.");
        }

        if (settings.ChildOut is { } childOut)
        {
            var measured = MemoryBench.Measure(settings.Cases[0]);
            NeuralOde.Modules.Checkpoint.WriteAtomically(childOut, stream => JsonSerializer.Serialize(stream, measured, BenchJsonContext.Default.MemoryResult));
            return 0;
        }

        var started = DateTime.UtcNow;
        var machine = Machine.Describe() with { Threads = settings.Threads };
        var results = new List<MemoryResult>();
        foreach (var memoryCase in settings.Cases)
        {
            for (var i = 0; i < settings.Repeats; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                Console.Error.Write(string.Create(CultureInfo.InvariantCulture, $"  {memoryCase.Problem} · {memoryCase.Rows:N0} rows{(memoryCase.MaxRowsInFlight is int n ? $" ({n:N0} in flight)" : "")} · {scheme.Name} · measurement {i + 1}/{settings.Repeats} … "));
                var result = MemoryBench.MeasureInFreshProcess(memoryCase, MemoryBench.ChildArguments(memoryCase));
                Console.Error.WriteLine(result.Status == AnchorRecord.Ok
                    ? string.Create(CultureInfo.InvariantCulture, $"{result.BytesPerRow:0} B/row, {result.TimeS:0.0} s")
                    : result.Status);
                results.Add(result);
            }
        }

        machine.LoadAverageAfter = Machine.LoadAverage();
        Write(machine, results);
        if (settings.Json is { } json)
        {
            var report = new MemoryReport
            {
                Machine = machine,
                Arguments = [.. context.Arguments],
                StartedUtc = started.ToString("O", CultureInfo.InvariantCulture),
                Results = results,
            };
            NeuralOde.Modules.Checkpoint.WriteAtomically(json, stream => JsonSerializer.Serialize(stream, report, BenchJsonContext.Default.MemoryReport));
            console.WriteLine($"Results written to {Path.GetFullPath(json)}.");
        }

        return 0;
    }

    private void Write(MachineInfo machine, List<MemoryResult> results)
    {
        console.WriteLine(
            $"threads: {machine.Threads} · load average: {machine.LoadAverageBefore} (before), {machine.LoadAverageAfter} (after) · " +
            $"{machine.Cpu}, {machine.LogicalCores} logical cores · {machine.Dotnet} · TorchSharp {machine.TorchSharp}");
        var table = Output.Styled(new Table(), console)
            .AddColumn("Problem")
            .AddColumn(new TableColumn("Rows").RightAligned())
            .AddColumn(new TableColumn("In flight").RightAligned())
            .AddColumn("Scheme")
            .AddColumn("DType")
            .AddColumn("Status")
            .AddColumn(new TableColumn("Baseline MB").RightAligned())
            .AddColumn(new TableColumn("Peak MB").RightAligned())
            .AddColumn(new TableColumn("B/row").RightAligned())
            .AddColumn(new TableColumn("Peak B/row").RightAligned())
            .AddColumn(new TableColumn("Time s").RightAligned())
            .AddColumn(new TableColumn("Rows/s").RightAligned())
            .AddColumn(new TableColumn("NFE").RightAligned())
            .AddColumn(new TableColumn("Accepted").RightAligned())
            .AddColumn(new TableColumn("Err rel L2").RightAligned());
        foreach (var r in results)
        {
            table.AddRow(
                r.Problem,
                r.Rows.ToString("N0", CultureInfo.InvariantCulture),
                r.MaxRowsInFlight is int inFlight ? string.Create(CultureInfo.InvariantCulture, $"{inFlight:N0} ({r.BatchRows:N0}/batch)") : "all",
                r.Scheme,
                r.DType == "float64" ? "f64" : "f32",
                Markup.Escape(r.Status),
                Format(r.BaselineRssBytes / 1048576.0, "0"),
                Format(r.PeakRssBytes / 1048576.0, "0"),
                Format(r.BytesPerRow, "0"),
                Format(r.PeakBytesPerRow, "0"),
                Format(r.TimeS, "0.00"),
                Format(r.RowsPerSecond, "0"),
                r.Nfe.ToString(CultureInfo.InvariantCulture),
                r.Status == AnchorRecord.Ok ? string.Create(CultureInfo.InvariantCulture, $"{r.StepsAcceptedMin}–{r.StepsAcceptedMax}") : "–",
                Format(r.ErrRelL2, "0.0e+00"));
        }

        console.Write(table);
        console.WriteLine(
            "B/row: (peak resident size during the solve − resident size right before it) / rows, the solve's outputs included. " +
            "Peak B/row: the whole process's peak / rows. In flight: the work set of a stream (Ode.SolveStream), or all rows in one solve. " +
            "Each measurement ran in a fresh process after a warm-up solve of ≤ 1024 rows.");
    }

    private static string Format(double? value, string format) =>
        value is double v && double.IsFinite(v) ? v.ToString(format, CultureInfo.InvariantCulture) : "–";
}
