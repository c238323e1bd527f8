namespace NeuralOde.Generators.Model;

/// <summary>One tableau coefficient as the generator emits it.</summary>
/// <param name="Value">The double the step uses: the double nearest the exact fraction when there is one, else the
/// folded constant.</param>
/// <param name="Exact">The exact fraction in lowest terms (<c>"-7200/2197"</c>, <c>"1"</c>), or null when the
/// declaration was not exact rational arithmetic (a decimal literal such as <c>0.161</c>).</param>
/// <param name="SourceText">The declaration as written, on one line, for comments.</param>
internal readonly record struct CoefficientSpec(double Value, string? Exact, string SourceText)
{
    /// <summary>Gets whether the coefficient is zero (and so left out of the step).</summary>
    public bool IsZero => Value == 0;

    /// <summary>Gets the text for a comment: the exact fraction when known, else the source text.</summary>
    public string Comment => Exact ?? SourceText;
}
