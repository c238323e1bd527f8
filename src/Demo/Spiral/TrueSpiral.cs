using NeuralOde.Solving;
using NeuralOde.Tableaux;
using static TorchSharp.torch;

namespace NeuralOde.Demo.Spiral;

/// <summary>The data of ode_demo: the cubic spiral <c>dy/dt = (y³)·A</c> from <c>y0 = [2, 0]</c>, sampled on a grid.</summary>
internal static class TrueSpiral
{
    /// <summary>Gets the matrix A (row vector convention, <c>y³ A</c>).</summary>
    public static readonly double[,] A = { { -0.1, 2.0 }, { -2.0, -0.1 } };

    /// <summary>Gets the initial state.</summary>
    public static readonly float[] Y0 = [2f, 0f];

    /// <summary>The true dynamics.</summary>
    /// <param name="y">The states, <c>[B, 2]</c>.</param>
    /// <param name="a">A as a tensor of y's dtype and device, <c>[2, 2]</c>.</param>
    /// <returns><c>(y³)·A</c>, <c>[B, 2]</c>.</returns>
    public static Tensor Dynamics(Tensor y, Tensor a) => y.pow(3).mm(a);

    /// <summary>Samples the true trajectory, solved with DOPRI5 at ode_demo's tolerances (rtol 1e-7, atol 1e-9).</summary>
    /// <param name="times">The times, <c>[T]</c> float32, starting at 0.</param>
    /// <returns>The states, <c>[T, 2]</c> float32.</returns>
    public static Tensor Sample(Tensor times)
    {
        using var scope = NewDisposeScope();
        var a = tensor(A, dtype: ScalarType.Float32);
        var y0 = tensor(Y0).unsqueeze(0);
        var t0 = times[0].item<float>();
        var t1 = times[-1].item<float>();
        var options = SolverOptions.Adaptive(1e-7, 1e-9) with { OutputTimes = times, ThrowOnFailure = true };
        var solution = Ode.Solve<DormandPrince54.Method>((_, y) => Dynamics(y, a), y0, t0, t1, options);
        return solution.Ys!.squeeze(0).MoveToOuterDisposeScope();
    }
}
