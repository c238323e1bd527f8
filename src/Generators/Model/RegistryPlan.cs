using NeuralOde.Generators.Helpers;

namespace NeuralOde.Generators.Model;

/// <summary>
/// The decisions that need every valid tableau of the compilation at once: which names are duplicates, which
/// hint name each file gets, and what the registry lists.
/// </summary>
/// <remarks>Value-equatable: it changes only when a tableau is added, removed, renamed or moved.</remarks>
internal sealed record RegistryPlan
{
    /// <summary>Gets the file of each tableau that is emitted (duplicates are not).</summary>
    public required EquatableArray<PlannedFile> Files { get; init; }

    /// <summary>Gets the schemes the registry lists, sorted by name ignoring case.</summary>
    public required EquatableArray<RegistryEntry> Entries { get; init; }

    /// <summary>Gets the tableaux whose name an earlier one already took.</summary>
    public required EquatableArray<DuplicateName> Duplicates { get; init; }

    /// <summary>Finds the hint name planned for a tableau.</summary>
    /// <param name="fullyQualifiedName">The tableau type's fully qualified name.</param>
    /// <returns>The hint name, or null when the tableau is not emitted.</returns>
    public string? HintNameFor(string fullyQualifiedName)
    {
        foreach (var file in Files)
        {
            if (file.FullyQualifiedName == fullyQualifiedName)
            {
                return file.HintName;
            }
        }

        return null;
    }
}

/// <summary>A tableau's generated file.</summary>
/// <param name="FullyQualifiedName">The tableau type.</param>
/// <param name="HintName">The unique hint name.</param>
internal readonly record struct PlannedFile(string FullyQualifiedName, string HintName);

/// <summary>One scheme in the registry.</summary>
/// <param name="Name">The declared name.</param>
/// <param name="UpperName">The name in upper case (invariant), the registry's switch label.</param>
/// <param name="FullyQualifiedName">The tableau type.</param>
internal readonly record struct RegistryEntry(string Name, string UpperName, string FullyQualifiedName);

/// <summary>A tableau left out because its name is taken.</summary>
/// <param name="Name">The duplicate name.</param>
/// <param name="FirstType">The type that declared the name first, for the message.</param>
/// <param name="Declaration">Where the duplicate is declared.</param>
internal readonly record struct DuplicateName(string Name, string FirstType, SourceOrder Declaration);
