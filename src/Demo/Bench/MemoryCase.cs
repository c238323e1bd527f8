using NeuralOde.Solving;
using static TorchSharp.torch;

namespace NeuralOde.Demo.Bench;

/// <summary>What one <c>bench-memory</c> measurement solves: <see cref="HarmonicOscillators"/> (or
/// <see cref="TiledSpiral"/>) with <see cref="Rows"/> rows from t = 0 to <see cref="T1"/>, adaptively.</summary>
internal sealed record MemoryCase
{
    /// <summary>The problem of harmonic oscillators (<see cref="HarmonicOscillators"/>).</summary>
    public const string Oscillator = "oscillator";

    /// <summary>The problem of the shared spiral MLP repeated to B rows (<see cref="TiledSpiral"/>).</summary>
    public const string Spiral = "spiral";

    /// <summary>Gets the problem: <see cref="Oscillator"/> or <see cref="Spiral"/>.</summary>
    public string Problem { get; init; } = Oscillator;

    /// <summary>Gets the benchmark folder for <see cref="Spiral"/>, or null to locate it as <c>bench</c> does.</summary>
    public string? Data { get; init; }

    /// <summary>Gets the number of rows B of the <c>[B, 2]</c> state.</summary>
    public long Rows { get; init; } = 1_000_000;

    /// <summary>Gets the scheme's name (it must have an error estimate).</summary>
    public string Scheme { get; init; } = "DOPRI5";

    /// <summary>Gets the state's dtype.</summary>
    public ScalarType DType { get; init; } = ScalarType.Float32;

    /// <summary>Gets the relative tolerance.</summary>
    public double Rtol { get; init; } = 1e-3;

    /// <summary>Gets the absolute tolerance.</summary>
    public double Atol { get; init; } = 1e-6;

    /// <summary>Gets the end time.</summary>
    public double T1 { get; init; } = 10;

    /// <summary>Gets the compaction mode.</summary>
    public CompactionMode Compaction { get; init; } = CompactionMode.Auto;

    /// <summary>Gets libtorch's intra-op threads.</summary>
    public int Threads { get; init; } = 1;

    /// <summary>Gets the largest work set of a streaming solve (<see cref="Ode.SolveStream(string, Func{Tensor, Tensor, Tensor, Tensor}, IEnumerable{Tensor}, double, double, SolverOptions?)"/>),
    /// or null for one solve of all rows.</summary>
    public int? MaxRowsInFlight { get; init; }

    /// <summary>Gets the rows of each batch a streaming solve is fed.</summary>
    public long BatchRows { get; init; } = 100_000;

    /// <summary>Gets the rows of the untimed warm-up solve run before the baseline is read.</summary>
    public long WarmupRows => Math.Min(Rows, 1024);

    /// <summary>Builds the problem with <paramref name="rows"/> rows.</summary>
    /// <param name="rows">The batch size.</param>
    /// <returns>The problem; the caller disposes it.</returns>
    public IMemoryProblem Create(long rows) => Problem == Spiral
        ? new TiledSpiral(BenchData.Locate(Data), rows, DType)
        : new HarmonicOscillators(rows, DType);

    /// <summary>Builds the solver options.</summary>
    /// <returns>Adaptive options with the case's tolerances and compaction.</returns>
    public SolverOptions Options() =>
        SolverOptions.Adaptive(Rtol, Atol) with { Compaction = Compaction, MaxRowsInFlight = MaxRowsInFlight };
}
