namespace NeuralOde.Tableaux;

/// <summary>
/// The forward Euler method: one stage, order 1, no embedded solution (fixed steps only).
/// </summary>
/// <remarks>
/// L. Euler, <i>Institutionum calculi integralis</i>, Vol. I, St. Petersburg, 1768, Part I, Sect. II, Ch. VII
/// ("De integratione aequationum differentialium per approximationem").
/// </remarks>
[ButcherTableau("Euler", Order = 1)]
public static partial class Euler
{
    internal static readonly double[] C = [0];

    internal static readonly double[][] A =
    [
        [],
    ];

    internal static readonly double[] B = [1];
}
