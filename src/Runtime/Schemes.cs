using System.Collections.Concurrent;
using NeuralOde.Stepping;

namespace NeuralOde;

/// <summary>
/// Every Runge–Kutta scheme known to the process: the built-in ones and those of any loaded assembly that
/// declares its own with <see cref="ButcherTableauAttribute"/> (each generated registry registers its schemes
/// when its assembly loads). Names are case-insensitive.
/// </summary>
public static class Schemes
{
    private static readonly ConcurrentDictionary<string, RungeKuttaScheme> ByName = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Gets every registered scheme, ordered by name.</summary>
    public static IReadOnlyList<RungeKuttaScheme> All =>
        [.. ByName.Values.OrderBy(static s => s.Name, StringComparer.OrdinalIgnoreCase)];

    /// <summary>Finds a scheme by name (case-insensitive, surrounding white space ignored).</summary>
    /// <param name="name">The declared name, for example <c>"rkf45"</c>.</param>
    /// <returns>The scheme.</returns>
    /// <exception cref="ArgumentException">No scheme has that name; the message lists the known ones.</exception>
    public static RungeKuttaScheme Get(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (ByName.TryGetValue(name.Trim(), out var scheme))
        {
            return scheme;
        }

        throw new ArgumentException(
            $"Unknown Runge–Kutta scheme '{name}'. Known schemes: {string.Join(", ", All.Select(static s => s.Name))}.",
            nameof(name));
    }

    /// <summary>Tries to find a scheme by name (case-insensitive, surrounding white space ignored).</summary>
    /// <param name="name">The declared name.</param>
    /// <param name="scheme">The scheme when found.</param>
    /// <returns>Whether a scheme has that name.</returns>
    public static bool TryGet(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out RungeKuttaScheme? scheme)
    {
        ArgumentNullException.ThrowIfNull(name);
        return ByName.TryGetValue(name.Trim(), out scheme);
    }

    /// <summary>
    /// Registers schemes; generated registries call this from a module initializer. A name already taken by a
    /// scheme of another assembly keeps its first scheme (names are unique within one compilation, which the
    /// generator checks); the return value lists the schemes that were not registered for that reason.
    /// </summary>
    /// <param name="schemes">The schemes to add.</param>
    /// <returns>The schemes whose name was already taken by a different scheme.</returns>
    public static IReadOnlyList<RungeKuttaScheme> Register(IEnumerable<RungeKuttaScheme> schemes)
    {
        ArgumentNullException.ThrowIfNull(schemes);
        var shadowed = new List<RungeKuttaScheme>();
        foreach (var scheme in schemes)
        {
            var existing = ByName.GetOrAdd(scheme.Name, scheme);
            if (!ReferenceEquals(existing, scheme))
            {
                shadowed.Add(scheme);
            }
        }

        return shadowed;
    }
}
