using System.ComponentModel;
using System.Globalization;
using NeuralOde.Demo.Bench;
using NeuralOde.Solving;
using Spectre.Console;
using Spectre.Console.Cli;
using TorchSharp;

namespace NeuralOde.Demo.Commands;

/// <summary>The options of <c>bench-memory</c>.</summary>
internal sealed class MemorySettings : CommandSettings
{
    /// <summary>Gets or sets the problem.</summary>
    [CommandOption("--problem <NAME>")]
    [Description("oscillator: harmonic oscillators x' = v, v' = −ω²x with ω per row in [[0.5, 2) (the solver's own memory); spiral: the shared spiral_d2_h64_b256 MLP (hidden 64) with its 256 initial states repeated to B rows (the network's activations included).")]
    [DefaultValue(MemoryCase.Oscillator)]
    public string Problem { get; set; } = MemoryCase.Oscillator;

    /// <summary>Gets or sets the benchmark folder (spiral only).</summary>
    [CommandOption("--data <DIR>")]
    [Description("Benchmark folder for --problem spiral (with manifest.json). Default: as bench finds it ($NEURALODE_BENCH, else testdata/bench found walking up).")]
    public string? Data { get; set; }

    /// <summary>Gets or sets the row counts (repeatable, or comma-separated; <c>_</c> separates digits).</summary>
    [CommandOption("--rows <N>")]
    [Description("Rows B of the [[B, 2]] state, one measurement (in its own process) per count: repeat the option or separate with commas; 1_000_000 and 10_000_000 are accepted. A count larger than fits in memory fails its row with a status; --max-rows-in-flight streams such counts. Default: 1000000.")]
    public string[] Rows { get; set; } = [];

    /// <summary>Gets or sets the largest work set of a streaming solve, or null for one solve of all rows.</summary>
    [CommandOption("--max-rows-in-flight <N>")]
    [Description("Solve the rows as a stream (Ode.SolveStream) of --batch-rows batches through a work set of at most N rows, refilled as rows finish, instead of one solve of all rows. Default: none (one solve).")]
    public int? MaxRowsInFlight { get; set; }

    /// <summary>Gets or sets the rows of each batch a streaming solve is fed.</summary>
    [CommandOption("--batch-rows <N>")]
    [Description("With --max-rows-in-flight: the rows of each batch the stream reads.")]
    [DefaultValue(100_000L)]
    public long BatchRows { get; set; } = 100_000;

    /// <summary>Gets or sets the measurements per row count.</summary>
    [CommandOption("--repeats <N>")]
    [Description("Measurements per row count, each in a fresh process.")]
    [DefaultValue(3)]
    public int Repeats { get; set; } = 3;

    /// <summary>Gets or sets the scheme.</summary>
    [CommandOption("-s|--scheme <NAME>")]
    [Description("An adaptive scheme (see the schemes command).")]
    [DefaultValue("DOPRI5")]
    public string Scheme { get; set; } = "DOPRI5";

    /// <summary>Gets or sets the dtype.</summary>
    [CommandOption("--dtype <DTYPE>")]
    [Description("The state's dtype: float32 or float64.")]
    [DefaultValue("float32")]
    public string DType { get; set; } = "float32";

    /// <summary>Gets or sets the relative tolerance.</summary>
    [CommandOption("--rtol <TOL>")]
    [Description("Relative tolerance.")]
    [DefaultValue(1e-3)]
    public double Rtol { get; set; } = 1e-3;

    /// <summary>Gets or sets the absolute tolerance.</summary>
    [CommandOption("--atol <TOL>")]
    [Description("Absolute tolerance.")]
    [DefaultValue(1e-6)]
    public double Atol { get; set; } = 1e-6;

    /// <summary>Gets or sets the end time, or null for the problem's default.</summary>
    [CommandOption("--t1 <T>")]
    [Description("End time of the solve from t = 0 (oscillator: ω in [[0.5, 2), up to ≈ 3 periods at 10; spiral: only its reference's t1 = 1). Default: 10 for oscillator, 1 for spiral.")]
    public double? T1 { get; set; }

    /// <summary>Gets the end time: <see cref="T1"/>, or 10 for the oscillators and 1 (the reference's) for the spiral.</summary>
    public double EndTime => T1 ?? (IsSpiral ? 1.0 : 10.0);

    private bool IsSpiral => Problem.Trim().ToLowerInvariant() == MemoryCase.Spiral;

    /// <summary>Gets or sets the compaction mode.</summary>
    [CommandOption("--compaction <MODE>")]
    [Description("When to step only the running rows: auto, always or never.")]
    [DefaultValue("auto")]
    public string Compaction { get; set; } = "auto";

    /// <summary>Gets or sets libtorch's intra-op thread count.</summary>
    [CommandOption("--threads <N>")]
    [Description("libtorch intra-op threads.")]
    [DefaultValue(1)]
    public int Threads { get; set; } = 1;

    /// <summary>Gets or sets the JSON output file.</summary>
    [CommandOption("--json <FILE>")]
    [Description("Also write every measurement and the machine as JSON (written atomically). Default: no JSON file.")]
    public string? Json { get; set; }

    /// <summary>Gets or sets the file a child process writes its one measurement to (internal).</summary>
    [CommandOption("--child-out <FILE>", IsHidden = true)]
    [Description("Internal: measure one row count in this process and write the result to FILE. Default: none (measure each count in a fresh child process).")]
    public string? ChildOut { get; set; }

    /// <summary>Gets the row counts; 1,000,000 when none is given.</summary>
    public IReadOnlyList<long> RowCounts =>
        Rows.Length == 0
            ? [1_000_000]
            : [.. Rows.SelectMany(static v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Select(ParseRows)];

    /// <summary>Gets the cases to measure, one per row count.</summary>
    public IReadOnlyList<MemoryCase> Cases =>
        [.. RowCounts.Select(rows => new MemoryCase
        {
            Problem = IsSpiral ? MemoryCase.Spiral : MemoryCase.Oscillator,
            Data = Data,
            Rows = rows,
            Scheme = Scheme,
            DType = DType.Trim().ToLowerInvariant() is "float64" or "f64" ? torch.ScalarType.Float64 : torch.ScalarType.Float32,
            Rtol = Rtol,
            Atol = Atol,
            T1 = EndTime,
            Compaction = Compaction.Trim().ToLowerInvariant() switch
            {
                "always" => CompactionMode.Always,
                "never" => CompactionMode.Never,
                _ => CompactionMode.Auto,
            },
            Threads = Threads,
            MaxRowsInFlight = MaxRowsInFlight,
            BatchRows = BatchRows,
        })];

    /// <summary>Checks the options.</summary>
    /// <returns>Success, or the first problem found.</returns>
    public override ValidationResult Validate()
    {
        foreach (var value in Rows.SelectMany(static v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            if (ParseRows(value) < 1)
            {
                return ValidationResult.Error($"--rows must be whole numbers of at least 1; got '{value}'.");
            }
        }

        if (MaxRowsInFlight is < 1 || BatchRows < 1)
        {
            return ValidationResult.Error($"--max-rows-in-flight and --batch-rows must be at least 1; got {MaxRowsInFlight} and {BatchRows}.");
        }

        if (Repeats < 1)
        {
            return ValidationResult.Error($"--repeats must be at least 1; got {Repeats}.");
        }

        if (!(Rtol > 0 && double.IsFinite(Rtol)) || !(Atol > 0 && double.IsFinite(Atol)))
        {
            return ValidationResult.Error($"--rtol and --atol must be positive and finite; got {Rtol} and {Atol}.");
        }

        if (Problem.Trim().ToLowerInvariant() is not (MemoryCase.Oscillator or MemoryCase.Spiral))
        {
            return ValidationResult.Error($"--problem must be oscillator or spiral; got '{Problem}'.");
        }

        if (!(EndTime > 0 && double.IsFinite(EndTime)))
        {
            return ValidationResult.Error($"--t1 must be positive and finite; got {T1}.");
        }

        if (IsSpiral && EndTime != 1.0)
        {
            return ValidationResult.Error($"--problem spiral has its reference at t1 = 1 only; got --t1 {T1}.");
        }

        if (DType.Trim().ToLowerInvariant() is not ("float32" or "f32" or "float64" or "f64"))
        {
            return ValidationResult.Error($"--dtype must be float32 or float64; got '{DType}'.");
        }

        if (Compaction.Trim().ToLowerInvariant() is not ("auto" or "always" or "never"))
        {
            return ValidationResult.Error($"--compaction must be auto, always or never; got '{Compaction}'.");
        }

        if (Threads < 1)
        {
            return ValidationResult.Error($"--threads must be at least 1; got {Threads}.");
        }

        if (ChildOut is not null && RowCounts.Count != 1)
        {
            return ValidationResult.Error("--child-out measures exactly one row count.");
        }

        return ValidationResult.Success();
    }

    // 0 for anything that is not a whole number (Validate reports it).
    private static long ParseRows(string value) =>
        long.TryParse(value.Replace("_", "", StringComparison.Ordinal), NumberStyles.None, CultureInfo.InvariantCulture, out var rows) ? rows : 0;
}
