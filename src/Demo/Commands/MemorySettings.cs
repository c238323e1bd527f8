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
    /// <summary>Gets or sets the row counts (repeatable, or comma-separated; <c>_</c> separates digits).</summary>
    [CommandOption("--rows <N>")]
    [Description("Rows B of the [[B, 2]] state, one measurement (in its own process) per count: repeat the option or separate with commas; 1_000_000 and 10_000_000 are accepted. A count larger than fits in memory fails its row with a status (the streaming solve with MaxRowsInFlight will measure those). Default: 1000000.")]
    public string[] Rows { get; set; } = [];

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

    /// <summary>Gets or sets the end time.</summary>
    [CommandOption("--t1 <T>")]
    [Description("End time of the solve from t = 0 (ω in [[0.5, 2): up to ≈ 3 periods at 10).")]
    [DefaultValue(10.0)]
    public double T1 { get; set; } = 10;

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
            Rows = rows,
            Scheme = Scheme,
            DType = DType.Trim().ToLowerInvariant() is "float64" or "f64" ? torch.ScalarType.Float64 : torch.ScalarType.Float32,
            Rtol = Rtol,
            Atol = Atol,
            T1 = T1,
            Compaction = Compaction.Trim().ToLowerInvariant() switch
            {
                "always" => CompactionMode.Always,
                "never" => CompactionMode.Never,
                _ => CompactionMode.Auto,
            },
            Threads = Threads,
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

        if (Repeats < 1)
        {
            return ValidationResult.Error($"--repeats must be at least 1; got {Repeats}.");
        }

        if (!(Rtol > 0 && double.IsFinite(Rtol)) || !(Atol > 0 && double.IsFinite(Atol)))
        {
            return ValidationResult.Error($"--rtol and --atol must be positive and finite; got {Rtol} and {Atol}.");
        }

        if (!(T1 > 0 && double.IsFinite(T1)))
        {
            return ValidationResult.Error($"--t1 must be positive and finite; got {T1}.");
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
