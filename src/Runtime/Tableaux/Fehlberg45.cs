namespace NeuralOde.Tableaux;

/// <summary>
/// Fehlberg's 4(5) pair ("RKF45") as he published it: the fourth-order solution is propagated and the
/// fifth-order one serves only to estimate the error. Six stages, order 4, embedded order 5, not FSAL.
/// </summary>
/// <remarks>
/// E. Fehlberg, "Low-order classical Runge-Kutta formulas with stepsize control and their application to some
/// heat transfer problems", NASA Technical Report R-315, 1969, Table III (RK4(5), Formula 2).
/// </remarks>
[ButcherTableau("RKF45", Order = 4, EmbeddedOrder = 5)]
public static partial class Fehlberg45
{
    internal static readonly double[] C = [0, 1.0 / 4, 3.0 / 8, 12.0 / 13, 1, 1.0 / 2];

    internal static readonly double[][] A =
    [
        [],
        [1.0 / 4],
        [3.0 / 32, 9.0 / 32],
        [1932.0 / 2197, -7200.0 / 2197, 7296.0 / 2197],
        [439.0 / 216, -8.0, 3680.0 / 513, -845.0 / 4104],
        [-8.0 / 27, 2.0, -3544.0 / 2565, 1859.0 / 4104, -11.0 / 40],
    ];

    internal static readonly double[] B = [25.0 / 216, 0, 1408.0 / 2565, 2197.0 / 4104, -1.0 / 5, 0];

    internal static readonly double[] BHat = [16.0 / 135, 0, 6656.0 / 12825, 28561.0 / 56430, -9.0 / 50, 2.0 / 55];
}
