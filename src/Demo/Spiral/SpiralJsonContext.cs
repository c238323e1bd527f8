using System.Text.Json.Serialization;

namespace NeuralOde.Demo.Spiral;

/// <summary>Source-generated JSON for <c>spiral.json</c> (camelCase, indented, enums as names).</summary>
[JsonSourceGenerationOptions(
    WriteIndented = true,
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(SpiralMetrics))]
internal sealed partial class SpiralJsonContext : JsonSerializerContext
{
}
