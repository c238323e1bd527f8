namespace NeuralOde.Demo.Bench;

/// <summary>
/// The method names of the anchor harness (<c>shared/anchors</c>): torchdiffeq's lower-case spelling of each
/// scheme, so that records of the same method join across libraries.
/// </summary>
/// <remarks>
/// Only schemes that are the very same method get an anchor's name. torchdiffeq's <c>rk4</c> is the 3/8 rule, so it
/// is our <c>ThreeEighths</c>; our classic <c>RK4</c> is <c>rk4_classic</c>, which joins nothing. Schemes the anchors
/// do not have keep their own name in lower case (<c>rkf45</c>: torchdiffeq's <c>fehlberg2</c> is a different pair).
/// </remarks>
internal static class AnchorMethods
{
    private static readonly Dictionary<string, string> Names = new(StringComparer.OrdinalIgnoreCase)
    {
        ["DOPRI5"] = "dopri5",
        ["Tsit5"] = "tsit5",
        ["BS32"] = "bosh3",
        ["HeunEuler"] = "adaptive_heun",
        ["ThreeEighths"] = "rk4",
        ["RK4"] = "rk4_classic",
        ["Euler"] = "euler",
        ["Midpoint"] = "midpoint",
    };

    /// <summary>Returns the anchors' name of one of our schemes.</summary>
    /// <param name="scheme">Our scheme's name, e.g. <c>DOPRI5</c>.</param>
    /// <returns>For example <c>dopri5</c>; a scheme the anchors lack gets its own name in lower case.</returns>
    public static string For(string scheme)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(scheme);
        return Names.TryGetValue(scheme, out var name) ? name : scheme.ToLowerInvariant();
    }
}
