using NeuralOde.Generators.Helpers;

namespace NeuralOde.Generators.Model;

/// <summary>Where a tableau type sits: its namespace and the types around it.</summary>
/// <remarks>Value-equatable and free of Roslyn objects, like every model the pipeline caches.</remarks>
internal sealed record ContainingTypeSpec
{
    /// <summary>Gets the namespace as C# text (keywords escaped), or null for the global namespace.</summary>
    public required string? Namespace { get; init; }

    /// <summary>
    /// Gets the partial declaration of each containing type, outermost first, such as <c>partial class Outer</c>
    /// or <c>partial record struct Holder</c>.
    /// </summary>
    public required EquatableArray<string> DeclarationHeaders { get; init; }
}
