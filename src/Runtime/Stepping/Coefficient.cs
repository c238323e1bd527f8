namespace NeuralOde.Stepping;

/// <summary>One tableau coefficient: its value and, when the declaration was exact rational arithmetic, the fraction.</summary>
/// <param name="Value">The coefficient as the generated step uses it.</param>
/// <param name="Exact">The exact value as a reduced fraction <c>"p/q"</c> (or an integer), or null when the
/// declaration was not exact (a decimal literal such as <c>0.161</c>).</param>
public readonly record struct Coefficient(double Value, string? Exact)
{
    /// <summary>Returns the exact fraction when known, else the value in round-trip form.</summary>
    /// <returns>The coefficient as text.</returns>
    public override string ToString() =>
        Exact ?? Value.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
}
