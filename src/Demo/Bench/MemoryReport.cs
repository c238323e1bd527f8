using System.Text.Json.Serialization;

namespace NeuralOde.Demo.Bench;

/// <summary>The <c>--json</c> file of <c>bench-memory</c>: the machine, the command line and every measurement.</summary>
internal sealed record MemoryReport
{
    /// <summary>Gets the machine, with the load average before and after the run.</summary>
    [JsonPropertyName("machine")]
    public required MachineInfo Machine { get; init; }

    /// <summary>Gets the command-line arguments.</summary>
    [JsonPropertyName("argv")]
    public required string[] Arguments { get; init; }

    /// <summary>Gets when the run started (UTC, ISO 8601).</summary>
    [JsonPropertyName("started")]
    public required string StartedUtc { get; init; }

    /// <summary>Gets the measurements, in the order they ran (each in its own process).</summary>
    [JsonPropertyName("results")]
    public required List<MemoryResult> Results { get; init; }
}
