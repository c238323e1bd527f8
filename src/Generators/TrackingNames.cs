namespace NeuralOde.Generators;

/// <summary>
/// The names of the tracked steps of <see cref="ButcherTableauGenerator"/>'s pipeline, so that tests can check
/// that an unrelated edit leaves every step cached.
/// </summary>
public static class TrackingNames
{
    /// <summary>The transform that parses each <c>[ButcherTableau]</c> class into a spec and diagnostics.</summary>
    public const string Parse = "Parse";

    /// <summary>The valid specs, one per tableau; each drives one generated file.</summary>
    public const string Spec = "Spec";

    /// <summary>All valid specs collected, which drive the registry and the duplicate-name check.</summary>
    public const string Registry = "Registry";
}
