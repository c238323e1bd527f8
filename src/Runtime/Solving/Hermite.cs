using static TorchSharp.torch;

namespace NeuralOde.Solving;

/// <summary>Cubic Hermite interpolation inside a step, from both end states and end slopes.</summary>
internal static class Hermite
{
    /// <summary>
    /// Evaluates <c>y(t + θ·h) ≈ h00·y0 + h10·(h·k0) + h01·y1 + h11·(h·k1)</c>: third-order accurate
    /// (local error O(h⁴)), exact at both ends.
    /// </summary>
    /// <param name="y0">The state at the step's start, <c>[B, ...]</c>.</param>
    /// <param name="y1">The state at the step's end, <c>[B, ...]</c>.</param>
    /// <param name="k0">The slope at the start, <c>[B, ...]</c>.</param>
    /// <param name="k1">The slope at the end, <c>[B, ...]</c>.</param>
    /// <param name="dt">The step per row, <c>[B]</c>.</param>
    /// <param name="theta">The fraction of the step per row, <c>[B]</c>.</param>
    /// <returns>The interpolated state, <c>[B, ...]</c>.</returns>
    public static Tensor Interpolate(Tensor y0, Tensor y1, Tensor k0, Tensor k1, Tensor dt, Tensor theta)
    {
        using var scope = NewDisposeScope();
        var th = Stepping.StepKernels.PerRow(theta, y0);
        var h = Stepping.StepKernels.PerRow(dt, y0);
        var th2 = th.square();
        var th3 = th2.mul(th);
        var h00 = th3.mul(2.0).sub_(th2.mul(3.0)).add_(1.0);
        var h10 = th3.sub(th2.mul(2.0)).add_(th).mul_(h);
        var h01 = th2.mul(3.0).sub_(th3.mul(2.0));
        var h11 = th3.sub(th2).mul_(h);
        var result = y0.mul(h00).addcmul_(k0, h10, 1.0).addcmul_(y1, h01, 1.0).addcmul_(k1, h11, 1.0);
        return result.MoveToOuterDisposeScope();
    }
}
