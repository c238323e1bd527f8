using System.ComponentModel;
using NeuralOde.Solving;
using Spectre.Console;
using Spectre.Console.Cli;
using TorchSharp;

namespace NeuralOde.Demo.Commands;

/// <summary>The options of <c>bench</c>.</summary>
internal sealed class BenchSettings : CommandSettings
{
    /// <summary>The schemes run when none is given.</summary>
    public static readonly string[] DefaultSchemes = ["DOPRI5", "RKF45", "Tsit5"];

    /// <summary>Gets or sets the benchmark folder.</summary>
    [CommandOption("--data <DIR>")]
    [Description("Benchmark folder (with manifest.json). Default: $NEURALODE_BENCH, else the repository's testdata/bench (or a shared/bench) found walking up from the current directory or the app's folder.")]
    public string? Data { get; set; }

    /// <summary>Gets or sets the problems (repeatable, or comma-separated).</summary>
    [CommandOption("-p|--problem <NAME>")]
    [Description("Problem(s) to run: repeat the option or separate with commas. Default: every problem in manifest.json.")]
    public string[] Problems { get; set; } = [];

    /// <summary>Gets or sets the schemes (repeatable, or comma-separated).</summary>
    [CommandOption("-s|--scheme <NAME>")]
    [Description("Scheme(s) to run (see the schemes command): repeat or separate with commas. Default: DOPRI5,RKF45,Tsit5.")]
    public string[] SchemeNames { get; set; } = [];

    /// <summary>Gets or sets the relative tolerance.</summary>
    [CommandOption("--rtol <TOL>")]
    [Description("Relative tolerance of adaptive solves.")]
    [DefaultValue(1e-3)]
    public double Rtol { get; set; } = 1e-3;

    /// <summary>Gets or sets the absolute tolerance.</summary>
    [CommandOption("--atol <TOL>")]
    [Description("Absolute tolerance of adaptive solves.")]
    [DefaultValue(1e-6)]
    public double Atol { get; set; } = 1e-6;

    /// <summary>Gets or sets the number of fixed steps (fixed-step mode for every scheme).</summary>
    [CommandOption("--fixed-steps <N>")]
    [Description("Solve with N equal steps instead of adaptively. Schemes without an embedded error estimate always take fixed steps: N, or the problem's rk4_steps. Default: adaptive.")]
    public int? FixedSteps { get; set; }

    /// <summary>Gets or sets the number of timed repeats.</summary>
    [CommandOption("--repeats <N>")]
    [Description("Timed solves per case; the median is reported.")]
    [DefaultValue(5)]
    public int Repeats { get; set; } = 5;

    /// <summary>Gets or sets the number of untimed warm-up solves.</summary>
    [CommandOption("--warmup <N>")]
    [Description("Untimed warm-up solves per case (at least one untimed solve always runs: it records the statistics and errors).")]
    [DefaultValue(1)]
    public int Warmup { get; set; } = 1;

    /// <summary>Gets or sets libtorch's intra-op thread count.</summary>
    [CommandOption("--threads <N>")]
    [Description("libtorch intra-op threads (torch.set_num_threads). Never more than the free cores: on a shared machine extra threads make calls 100× slower.")]
    [DefaultValue(1)]
    public int Threads { get; set; } = 1;

    /// <summary>Gets or sets the compaction mode.</summary>
    [CommandOption("--compaction <MODE>")]
    [Description("When to step only the running rows: auto, always or never.")]
    [DefaultValue("auto")]
    public string Compaction { get; set; } = "auto";

    /// <summary>Gets or sets whether adaptive solves share one step size across the batch.</summary>
    [CommandOption("--shared-step")]
    [Description("Adaptive solves use one step size for the whole batch (torchdiffeq's mode) instead of one per row: a baseline.")]
    public bool SharedStep { get; set; }

    /// <summary>Gets or sets whether the timed repeats follow the anchors' rule (<c>AnchorTiming</c>).</summary>
    [CommandOption("--anchor-repeats")]
    [Description("Time as many repeats per case as the anchors' harness would (bench_common.run_case): a case whose warm run takes over 0.4 s at most --slow-repeats, one whose repeats would take under 0.25 s in all enough to fill it, at most 30.")]
    public bool AnchorRepeats { get; set; }

    /// <summary>Gets or sets the most repeats of a slow case under <see cref="AnchorRepeats"/>.</summary>
    [CommandOption("--slow-repeats <N>")]
    [Description("With --anchor-repeats: the most timed repeats of a case whose warm run takes over 0.4 s (the anchors' option of the same name).")]
    [DefaultValue(3)]
    public int SlowRepeats { get; set; } = 3;

    /// <summary>Gets or sets whether each per-row case is also run in shared-step mode and compared.</summary>
    [CommandOption("--compare-shared")]
    [Description("Also run every adaptive per-row case with a shared step size and print how many times fewer row evaluations and how much less wall time per-row steps need.")]
    public bool CompareShared { get; set; }

    /// <summary>Gets or sets the dtype override.</summary>
    [CommandOption("--dtype <DTYPE>")]
    [Description("Solve in float32 or float64 instead of each problem's own dtype (weights and states are converted). Default: each problem's own dtype.")]
    public string? DType { get; set; }

    /// <summary>Gets or sets the JSON output file.</summary>
    [CommandOption("--json <FILE>")]
    [Description("Also write every result, the machine and the settings as JSON (written atomically). Default: no JSON file.")]
    public string? Json { get; set; }

    /// <summary>Gets or sets the anchor-schema output file.</summary>
    [CommandOption("--out <FILE>")]
    [Description("Also write every case as a record of the anchor harness's schema (shared/anchors/README.md: {\"library\": \"neuralode\", \"results\": [[...]]}, written atomically), which its summarize.py prints beside torchdiffeq and torchode. Default: no such file.")]
    public string? Out { get; set; }

    /// <summary>Gets or sets the gradient modes: none (forward solves only), backprop, adjoint, checkpointed, both or
    /// all, or a comma list of them.</summary>
    [CommandOption("--gradient <MODE>")]
    [Description("Time forward + backward passes of L = 0.5·mean(y(t1)²) instead of forward solves: backprop, adjoint, checkpointed, both (backprop and adjoint) or all (MLP problems only); reports NFE both ways, the pass's peak memory and the gradient's error against ref_grad_*. A comma list runs several, and 'none' in it runs the forward solves too (none,both: fwd, bptt and adjoint records in one --out file).")]
    [DefaultValue("none")]
    public string Gradient { get; set; } = "none";

    /// <summary>Gets or sets an end time that replaces the problems' own (for longer gradient solves), or null.</summary>
    [CommandOption("--t1 <T>")]
    [Description("With --gradient: integrate to this end time instead of the problem's (more steps; the gradient error against ref_grad_* is then not reported). Default: each problem's own t1.")]
    public double? T1 { get; set; }

    /// <summary>Gets the gradient modes to run, in the order given (empty for plain forward solves).</summary>
    public IReadOnlyList<NeuralOde.Modules.GradientMode> GradientModes =>
        [.. GradientWords.SelectMany(static word => word switch
        {
            "none" => (NeuralOde.Modules.GradientMode[])[],
            "backprop" => [NeuralOde.Modules.GradientMode.Backprop],
            "adjoint" => [NeuralOde.Modules.GradientMode.Adjoint],
            "checkpointed" => [NeuralOde.Modules.GradientMode.Checkpointed],
            "both" => [NeuralOde.Modules.GradientMode.Backprop, NeuralOde.Modules.GradientMode.Adjoint],
            "all" => [NeuralOde.Modules.GradientMode.Backprop, NeuralOde.Modules.GradientMode.Checkpointed, NeuralOde.Modules.GradientMode.Adjoint],
            _ => throw new InvalidOperationException($"Unknown gradient mode '{word}'."),
        }).Distinct()];

    /// <summary>Gets whether the forward solves run: <c>--gradient</c> is <c>none</c> or its list names <c>none</c>.</summary>
    public bool ForwardSolves => GradientWords.Contains("none");

    private string[] GradientWords =>
        [.. Gradient.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(static w => w.ToLowerInvariant())];

    /// <summary>Gets the problems, with comma lists split.</summary>
    public IReadOnlyList<string> ProblemList => Split(Problems);

    /// <summary>Gets the schemes, with comma lists split; the defaults when none is given.</summary>
    public IReadOnlyList<string> SchemeList => SchemeNames.Length == 0 ? DefaultSchemes : Split(SchemeNames);

    /// <summary>Gets the parsed compaction mode.</summary>
    public CompactionMode CompactionMode => Compaction.Trim().ToLowerInvariant() switch
    {
        "auto" => CompactionMode.Auto,
        "always" => CompactionMode.Always,
        "never" => CompactionMode.Never,
        _ => throw new InvalidOperationException($"Unknown compaction mode '{Compaction}'."),
    };

    /// <summary>Gets the parsed dtype override, or null.</summary>
    public torch.ScalarType? ScalarType => DType?.Trim().ToLowerInvariant() switch
    {
        null => null,
        "float32" or "f32" => torch.ScalarType.Float32,
        "float64" or "f64" => torch.ScalarType.Float64,
        _ => throw new InvalidOperationException($"Unknown dtype '{DType}'."),
    };

    /// <summary>Checks the options.</summary>
    /// <returns>Success, or the first problem found.</returns>
    public override ValidationResult Validate()
    {
        if (!(Rtol > 0 && double.IsFinite(Rtol)) || !(Atol > 0 && double.IsFinite(Atol)))
        {
            return ValidationResult.Error($"--rtol and --atol must be positive and finite; got {Rtol} and {Atol}.");
        }

        if (FixedSteps is < 1)
        {
            return ValidationResult.Error($"--fixed-steps must be at least 1; got {FixedSteps}.");
        }

        if (SlowRepeats < 1)
        {
            return ValidationResult.Error($"--slow-repeats must be at least 1; got {SlowRepeats}.");
        }

        if (Repeats < 1 || Warmup < 0)
        {
            return ValidationResult.Error($"--repeats must be at least 1 and --warmup at least 0; got {Repeats} and {Warmup}.");
        }

        if (Threads < 1)
        {
            return ValidationResult.Error($"--threads must be at least 1; got {Threads}.");
        }

        if (Compaction.Trim().ToLowerInvariant() is not ("auto" or "always" or "never"))
        {
            return ValidationResult.Error($"--compaction must be auto, always or never; got '{Compaction}'.");
        }

        if (DType is not null && DType.Trim().ToLowerInvariant() is not ("float32" or "f32" or "float64" or "f64"))
        {
            return ValidationResult.Error($"--dtype must be float32 or float64; got '{DType}'.");
        }

        if (SharedStep && CompareShared)
        {
            return ValidationResult.Error("--shared-step and --compare-shared exclude each other: --compare-shared already runs the shared-step baseline next to each per-row case.");
        }

        if (GradientWords.Length == 0 || GradientWords.Any(static w => w is not ("none" or "backprop" or "adjoint" or "checkpointed" or "both" or "all")))
        {
            return ValidationResult.Error($"--gradient must be none, backprop, adjoint, checkpointed, both or all; got '{Gradient}'.");
        }

        if (T1 is double t1 && !double.IsFinite(t1))
        {
            return ValidationResult.Error($"--t1 must be finite; got {t1}.");
        }

        if (SchemeNames.Length > 0 && SchemeList.Count == 0)
        {
            return ValidationResult.Error("--scheme names no scheme.");
        }

        return ValidationResult.Success();
    }

    private static string[] Split(IEnumerable<string> values) =>
        [.. values
            .SelectMany(static v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Distinct(StringComparer.OrdinalIgnoreCase)];
}
