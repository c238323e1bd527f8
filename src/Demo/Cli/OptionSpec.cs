namespace NeuralOde.Demo.Cli;

/// <summary>One option of a command, as its settings declare it.</summary>
/// <param name="Names">Every spelling, with dashes (<c>-o</c>, <c>--out</c>).</param>
/// <param name="LongName">The first long spelling (<c>--out</c>).</param>
/// <param name="ValueName">The value's placeholder (<c>DIR</c>), or null for a flag.</param>
/// <param name="Type">The settings property's type.</param>
internal sealed record OptionSpec(IReadOnlyList<string> Names, string LongName, string? ValueName, Type Type)
{
    /// <summary>Gets whether the option takes a value.</summary>
    public bool TakesValue => ValueName is not null;
}
