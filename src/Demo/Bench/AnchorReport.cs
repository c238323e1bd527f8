using System.Text.Json.Serialization;

namespace NeuralOde.Demo.Bench;

/// <summary>
/// The <c>--out</c> file of <c>bench</c>: <c>{"library": "neuralode", "results": [records]}</c> in the anchor harness's
/// schema (<c>shared/anchors/README.md</c>), with the machine and the command line beside it.
/// </summary>
internal sealed record AnchorReport
{
    /// <summary>The library's name in the anchors' tables.</summary>
    public const string LibraryName = "neuralode";

    /// <summary>Gets the library's name: <see cref="LibraryName"/>.</summary>
    [JsonPropertyName("library")]
    public string Library { get; init; } = LibraryName;

    /// <summary>Gets the demo's version (from the git tag and commit when built from a repository).</summary>
    [JsonPropertyName("version")]
    public required string Version { get; init; }

    /// <summary>Gets the command-line arguments.</summary>
    [JsonPropertyName("argv")]
    public required string[] Arguments { get; init; }

    /// <summary>Gets when the run started (UTC, ISO 8601).</summary>
    [JsonPropertyName("started")]
    public required string StartedUtc { get; init; }

    /// <summary>Gets the machine, with the load average before and after the run.</summary>
    [JsonPropertyName("machine")]
    public required MachineInfo Machine { get; init; }

    /// <summary>Gets the records, in the order the cases ran.</summary>
    [JsonPropertyName("results")]
    public required List<AnchorRecord> Results { get; init; }
}
