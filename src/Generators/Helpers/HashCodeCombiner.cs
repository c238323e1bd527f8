namespace NeuralOde.Generators.Helpers;

/// <summary>
/// Combines hash codes on netstandard2.0, which has no <c>System.HashCode</c> (the same ten lines that
/// CommunityToolkit and NetEscapades ship).
/// </summary>
internal static class HashCodeCombiner
{
    /// <summary>Combines two hash codes (the <c>boost::hash_combine</c> mix).</summary>
    /// <param name="seed">The running hash.</param>
    /// <param name="value">The hash to mix in.</param>
    /// <returns>The combined hash.</returns>
    public static int Combine(int seed, int value) =>
        unchecked(seed ^ (value + (int)0x9E3779B9 + (seed << 6) + (seed >> 2)));

    /// <summary>Combines three hash codes.</summary>
    /// <param name="first">The first hash.</param>
    /// <param name="second">The second hash.</param>
    /// <param name="third">The third hash.</param>
    /// <returns>The combined hash.</returns>
    public static int Combine(int first, int second, int third) => Combine(Combine(first, second), third);
}
