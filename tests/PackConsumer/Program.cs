// A user's program: declares its own scheme, takes one step with it, and finds it by name. Run by
// scripts/pack-consumer-check.sh against a freshly packed NeuralOde; exits non-zero when anything is off.
using NeuralOde;
using NeuralOde.Stepping;
using PackConsumer;
using static TorchSharp.torch;

Console.WriteLine($"runtime: {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}");
using (NewDisposeScope())
{
    // y' = −y on a [4, 1] batch: rows start at 1, 2, 3, 4 and take one step each, of its own size.
    double[] start = [1, 2, 3, 4];
    double[] steps = [0.1, 0.05, 0.2, 0.1];
    var y0 = tensor(start, dtype: float64).reshape(4, 1);
    var t = zeros(4, dtype: float64);
    var dt = tensor(steps, dtype: float64);
    StageFunction f = static (_, y) => y.neg();

    var scheme = ShuOsher3.Scheme;
    using var step = scheme.Step(f, t, dt, y0, f(t, y0));
    var y1 = step.Y.data<double>().ToArray();
    Console.WriteLine($"scheme: {scheme.Name}, {scheme.Stages} stages, order {scheme.Order}");
    Console.WriteLine($"y1: [{string.Join(", ", y1.Select(static v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture)))}]");

    // Every 3-stage third-order method reproduces exp(−h)'s Taylor polynomial to h³ on a linear problem, so each
    // row is y0·(1 − h + h²/2 − h³/6) up to rounding, and its error against y0·exp(−h) is y0·(h⁴/24 − …).
    var ok = y1.Length == 4;
    for (var i = 0; i < y1.Length && ok; i++)
    {
        var h = steps[i];
        var taylor = start[i] * (1 - h + (h * h / 2) - (h * h * h / 6));
        var error = Math.Abs(y1[i] - (start[i] * Math.Exp(-h)));
        var h4 = start[i] * Math.Pow(h, 4);
        Console.WriteLine($"row {i}: h = {h}, error {error:E3} (y0·h^4 = {h4:E1})");
        ok &= Math.Abs(y1[i] - taylor) < 1e-14 * start[i] && error < h4 / 10 && error > h4 / 100;
    }

    var found = ButcherTableauRegistry.Find("ssprk3");
    Console.WriteLine($"registry: {found?.Name ?? "(not found)"}");
    var fromSchemes = Schemes.Get("SSPRK3");
    Console.WriteLine($"schemes: {fromSchemes.Name}");
    ok &= ReferenceEquals(found, scheme) && ReferenceEquals(fromSchemes, scheme);

    Console.WriteLine(ok ? "order check: ok" : "order check: FAILED");
    return ok ? 0 : 1;
}

namespace PackConsumer
{
    /// <summary>The Shu–Osher third-order strong-stability-preserving scheme (SSPRK3), declared by the user.</summary>
    [ButcherTableau("SSPRK3", Order = 3)]
    public static partial class ShuOsher3
    {
        internal static readonly double[] C = [0, 1, 1.0 / 2];

        internal static readonly double[][] A =
        [
            [],
            [1],
            [1.0 / 4, 1.0 / 4],
        ];

        internal static readonly double[] B = [1.0 / 6, 1.0 / 6, 2.0 / 3];
    }
}
