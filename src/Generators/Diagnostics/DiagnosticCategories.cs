namespace NeuralOde.Generators.Diagnostics;

/// <summary>The categories of the generator's diagnostics.</summary>
internal static class DiagnosticCategories
{
    /// <summary>Every RKG diagnostic: a problem in a <c>[ButcherTableau]</c> declaration.</summary>
    public const string ButcherTableau = "ButcherTableau";
}
