using System.Text.Json.Serialization;

namespace NeuralOde.Demo.Bench;

/// <summary>
/// One measurement of <c>bench-memory</c>: the resident memory of one adaptive solve of an <see cref="IMemoryProblem"/>
/// in a fresh process. Sizes are bytes (Linux's /proc/self/status, kB × 1024).
/// </summary>
internal sealed record MemoryResult
{
    /// <summary>Gets the problem: <c>oscillator</c> or <c>spiral</c> (<see cref="MemoryCase"/>).</summary>
    [JsonPropertyName("problem")]
    public required string Problem { get; init; }

    /// <summary>Gets the number of rows B of the <c>[B, 2]</c> state.</summary>
    [JsonPropertyName("rows")]
    public long Rows { get; init; }

    /// <summary>Gets the scheme's name.</summary>
    [JsonPropertyName("scheme")]
    public required string Scheme { get; init; }

    /// <summary>Gets the dtype of the state.</summary>
    [JsonPropertyName("dtype")]
    public required string DType { get; init; }

    /// <summary>Gets the relative tolerance.</summary>
    [JsonPropertyName("rtol")]
    public double Rtol { get; init; }

    /// <summary>Gets the absolute tolerance.</summary>
    [JsonPropertyName("atol")]
    public double Atol { get; init; }

    /// <summary>Gets the end time (the solve runs from 0).</summary>
    [JsonPropertyName("t1")]
    public double T1 { get; init; }

    /// <summary>Gets the compaction mode.</summary>
    [JsonPropertyName("compaction")]
    public required string Compaction { get; init; }

    /// <summary>Gets libtorch's intra-op threads.</summary>
    [JsonPropertyName("threads")]
    public int Threads { get; init; }

    /// <summary>Gets the largest work set of a streaming solve, or null for one solve of all rows.</summary>
    [JsonPropertyName("max_rows_in_flight")]
    public int? MaxRowsInFlight { get; init; }

    /// <summary>Gets the rows of each batch a streaming solve was fed, or null.</summary>
    [JsonPropertyName("batch_rows")]
    public long? BatchRows { get; init; }

    /// <summary>Gets the resident size right before the solve (VmRSS), with the inputs <c>y0</c> and ω already built
    /// and a small warm-up solve done, or null where it could not be read.</summary>
    [JsonPropertyName("baseline_rss_bytes")]
    public long? BaselineRssBytes { get; init; }

    /// <summary>Gets the peak resident size during the solve (VmHWM, whose mark was reset to VmRSS right before it),
    /// or null.</summary>
    [JsonPropertyName("peak_rss_bytes")]
    public long? PeakRssBytes { get; init; }

    /// <summary>Gets (peak − baseline) / rows: what the solve itself adds per row at its peak, outputs included.</summary>
    [JsonPropertyName("bytes_per_row")]
    public double? BytesPerRow { get; init; }

    /// <summary>Gets peak / rows: the whole process per row (runtime, libtorch and inputs included).</summary>
    [JsonPropertyName("peak_bytes_per_row")]
    public double? PeakBytesPerRow { get; init; }

    /// <summary>Gets the solve's wall time in seconds.</summary>
    [JsonPropertyName("time_s")]
    public double? TimeS { get; init; }

    /// <summary>Gets rows per second of the solve.</summary>
    [JsonPropertyName("rows_per_s")]
    public double? RowsPerSecond { get; init; }

    /// <summary>Gets the batched dynamics calls (counted around the dynamics; a stream's calls serve every batch in
    /// flight).</summary>
    [JsonPropertyName("nfe")]
    public long Nfe { get; init; }

    /// <summary>Gets the fewest accepted steps of a row.</summary>
    [JsonPropertyName("steps_accepted_min")]
    public long StepsAcceptedMin { get; init; }

    /// <summary>Gets the most accepted steps of a row.</summary>
    [JsonPropertyName("steps_accepted_max")]
    public long StepsAcceptedMax { get; init; }

    /// <summary>Gets <c>‖y(t1) − ref‖₂ / ‖ref‖₂</c> in float64 against the exact solution (oscillator) or the problem's
    /// <c>ref_yT</c> (spiral), or null.</summary>
    [JsonPropertyName("err_rel_l2")]
    public double? ErrRelL2 { get; init; }

    /// <summary>Gets the status: <c>ok</c> (every row succeeded with a finite state and the peak was read) or
    /// <c>error: …</c>.</summary>
    [JsonPropertyName("status")]
    public required string Status { get; init; }
}
