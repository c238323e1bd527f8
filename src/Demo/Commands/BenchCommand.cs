using System.Globalization;
using System.Text.Json;
using NeuralOde.Demo.Bench;
using NeuralOde.Demo.Cli;
using NeuralOde.Solving;
using NeuralOde.Stepping;
using Spectre.Console;
using Spectre.Console.Cli;
using TorchSharp;

namespace NeuralOde.Demo.Commands;

/// <summary>
/// <c>bench</c>: runs the shared benchmark problems with any scheme and prints, per case, the median wall time,
/// NFE, row evaluations, accepted and rejected steps, the error against the reference and the overhead over the
/// network-only floor.
/// </summary>
/// <param name="console">Where to write the table.</param>
internal sealed class BenchCommand(IAnsiConsole console) : Command<BenchSettings>
{
    /// <summary>The command's description, shown by <c>--help</c>.</summary>
    public const string Description =
        "Run the benchmark problems of testdata/bench (checked by sha256) with any scheme and tolerance: wall time (median), " +
        "NFE, row evaluations, steps, error against the reference, and overhead = solve time / time of the same network evaluations alone.";

    /// <summary>Runs the command.</summary>
    /// <param name="context">The command context.</param>
    /// <param name="settings">The options.</param>
    /// <param name="cancellationToken">Stops between cases.</param>
    /// <returns>0 on success.</returns>
    /// <exception cref="UsageException">A problem that the manifest does not list (exit code 2).</exception>
    /// <exception cref="BenchDataException">The benchmark folder is missing or its files are bad (exit code 1).</exception>
    public override int Execute(CommandContext context, BenchSettings settings, CancellationToken cancellationToken) =>
        Run(settings, context.Arguments.ToArray(), cancellationToken);

    private int Run(BenchSettings settings, string[] arguments, CancellationToken cancellationToken)
    {
        torch.set_num_threads(settings.Threads);
        var started = DateTime.UtcNow;
        var machine = Machine.Describe();

        var data = BenchData.Locate(settings.Data);
        var manifest = BenchData.ReadManifest(data);
        var problems = settings.ProblemList.Count == 0 ? manifest : settings.ProblemList;
        foreach (var name in problems)
        {
            if (!manifest.Contains(name, StringComparer.Ordinal))
            {
                throw new UsageException($"Unknown problem '{name}'; the problems: {string.Join(", ", manifest)}.");
            }
        }

        if (Schemes.All.Count == 0)
        {
            throw new BenchDataException("No Runge–Kutta scheme is registered: the NeuralOde library was built without its generated tableaux.");
        }

        var schemes = settings.SchemeList.Select(Schemes.Get).ToList();
        var records = new List<AnchorRecord>();
        if (settings.ForwardSolves)
        {
            var results = RunForward(settings, data, problems, schemes, cancellationToken);
            machine.LoadAverageAfter = Machine.LoadAverage();
            var report = new BenchReport
            {
                Machine = machine,
                Data = data,
                Arguments = arguments,
                StartedUtc = started.ToString("O", CultureInfo.InvariantCulture),
                Results = results,
            };

            BenchTable.Write(console, report, settings.CompareShared);
            if (settings.Json is { } json)
            {
                WriteJsonAtomically(json, report);
                console.WriteLine($"Results written to {Path.GetFullPath(json)}.");
            }

            records.AddRange(results.Select(r => AnchorRecord.FromForward(r, settings.Threads)));
        }

        if (settings.GradientModes.Count > 0)
        {
            var results = RunGradients(settings, data, problems, schemes, cancellationToken);
            machine.LoadAverageAfter = Machine.LoadAverage();
            console.WriteLine(
                $"threads: {machine.Threads} · load average: {machine.LoadAverageBefore} (before), {machine.LoadAverageAfter} (after) · " +
                $"{machine.Cpu}, {machine.LogicalCores} logical cores · {machine.Dotnet} · TorchSharp {machine.TorchSharp}");
            GradientBench.Write(console, results);
            records.AddRange(results.Select(r => AnchorRecord.FromGradient(r, settings.Threads)));
        }

        if (settings.Out is { } output)
        {
            WriteAnchorsAtomically(output, new AnchorReport
            {
                Version = DemoApp.Version,
                Arguments = arguments,
                StartedUtc = started.ToString("O", CultureInfo.InvariantCulture),
                Machine = machine,
                Results = records,
            });
            console.WriteLine($"Anchor-schema records written to {Path.GetFullPath(output)}.");
        }

        return 0;
    }

    // Forward solves of every problem with every scheme (and the shared-step baseline with --compare-shared).
    private static List<BenchResult> RunForward(BenchSettings settings, string data, IReadOnlyList<string> problems, List<RungeKuttaScheme> schemes, CancellationToken cancellationToken)
    {
        var runner = new BenchRunner(settings.Repeats, settings.Warmup, settings.AnchorRepeats, settings.SlowRepeats);
        var results = new List<BenchResult>();
        foreach (var name in problems)
        {
            using var problem = BenchData.LoadProblem(data, name);
            using var dynamics = BenchDynamics.Create(problem, settings.ScalarType);
            foreach (var scheme in schemes)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var benchCase = CaseFor(settings, problem, scheme);
                var result = Progress(problem, benchCase, () => runner.Run(problem, dynamics, benchCase));
                if (settings.CompareShared && benchCase.FixedSteps is null)
                {
                    var shared = Progress(problem, benchCase with { SharedStep = true }, () => runner.Run(problem, dynamics, benchCase with { SharedStep = true }));
                    result = result with
                    {
                        SharedRowEvaluationRatio = (double)shared.RowEvaluations / result.RowEvaluations,
                        SharedWallTimeRatio = shared.WallMsMedian / result.WallMsMedian,
                        SharedCpuTimeRatio = shared.CpuMsMedian / result.CpuMsMedian,
                    };
                    results.Add(result);
                    results.Add(shared);
                }
                else
                {
                    results.Add(result);
                }
            }
        }

        return results;
    }

    // Forward + backward passes of the MLP problems in each gradient mode.
    private static List<GradientResult> RunGradients(BenchSettings settings, string data, IReadOnlyList<string> problems, List<RungeKuttaScheme> schemes, CancellationToken cancellationToken)
    {
        var results = new List<GradientResult>();
        foreach (var name in problems)
        {
            using var problem = BenchData.LoadProblem(data, name);
            if (problem.Kind is not ("mlp" or "mlpt"))
            {
                Console.Error.WriteLine($"  {name}: skipped (gradients are defined for the MLP problems only)");
                continue;
            }

            var dtype = settings.ScalarType ?? problem.DType;
            foreach (var scheme in schemes)
            {
                var benchCase = CaseFor(settings, problem, scheme);
                var options = benchCase.FixedSteps is int steps
                    ? SolverOptions.FixedSteps(steps)
                    : SolverOptions.Adaptive(settings.Rtol, settings.Atol);
                foreach (var mode in settings.GradientModes)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    Console.Error.Write($"  {name} · {scheme.Name} · {mode} … ");
                    for (var i = 0; i < settings.Warmup; i++)
                    {
                        GradientBench.Run(problem, scheme, mode, options, dtype, repeats: 0, settings.T1);
                    }

                    var result = GradientBench.Run(problem, scheme, mode, options, dtype, settings.Repeats, settings.T1, settings.AnchorRepeats, settings.SlowRepeats);
                    Console.Error.WriteLine(result.Failure ?? string.Create(CultureInfo.InvariantCulture, $"{result.ForwardMs:0.#} + {result.BackwardMs:0.#} ms, peak +{result.PeakMemoryMb:0} MB"));
                    results.Add(result);
                }
            }
        }

        return results;
    }

    /// <summary>Writes the anchor-schema records as JSON: to a temporary file in the same folder, then renamed over
    /// the target.</summary>
    /// <param name="path">The target file.</param>
    /// <param name="report">The records and the machine.</param>
    internal static void WriteAnchorsAtomically(string path, AnchorReport report) =>
        NeuralOde.Modules.Checkpoint.WriteAtomically(path, stream => JsonSerializer.Serialize(stream, report, BenchJsonContext.Default.AnchorReport));

    /// <summary>Writes the report as JSON: to a temporary file in the same folder, then renamed over the target.</summary>
    /// <param name="path">The target file.</param>
    /// <param name="report">The report.</param>
    internal static void WriteJsonAtomically(string path, BenchReport report) =>
        NeuralOde.Modules.Checkpoint.WriteAtomically(path, stream => JsonSerializer.Serialize(stream, report, BenchJsonContext.Default.BenchReport));

    private static BenchCase CaseFor(BenchSettings settings, BenchProblem problem, RungeKuttaScheme scheme)
    {
        int? fixedSteps = settings.FixedSteps ?? (scheme.HasErrorEstimate ? null : problem.Header.Spec.Rk4Steps);
        if (fixedSteps is < 1)
        {
            throw new BenchDataException($"Problem '{problem.Name}' gives no rk4_steps for the fixed-step scheme {scheme.Name}; pass --fixed-steps N.");
        }

        return new BenchCase
        {
            Scheme = scheme,
            FixedSteps = fixedSteps,
            RelativeTolerance = settings.Rtol,
            AbsoluteTolerance = settings.Atol,
            SharedStep = settings.SharedStep && fixedSteps is null,
            Compaction = settings.CompactionMode,
        };
    }

    private static BenchResult Progress(BenchProblem problem, BenchCase benchCase, Func<BenchResult> run)
    {
        Console.Error.Write($"  {problem.Name} · {benchCase.Scheme.Name} · {benchCase.Mode} … ");
        var result = run();
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{result.WallMsMedian:0.###} ms"));
        return result;
    }
}
