using System.ComponentModel;
using TorchSharp;
using static TorchSharp.torch;

namespace NeuralOde.Stepping;

/// <summary>
/// The few tensor helpers that generated steps call. Public for the generated code of any assembly; not meant
/// to be called directly.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class StepKernels
{
    /// <summary>Reshapes the per-row step <c>[B]</c> to <c>[B, 1, …, 1]</c> so that it broadcasts against a state.</summary>
    /// <param name="dt">The per-row step, <c>[B]</c>.</param>
    /// <param name="y">The state, <c>[B, ...]</c>.</param>
    /// <returns>A view of <paramref name="dt"/> with <paramref name="y"/>'s rank.</returns>
    public static Tensor PerRow(Tensor dt, Tensor y)
    {
        var rank = y.dim();
        if (rank == 1)
        {
            return dt.alias();
        }

        var shape = new long[rank];
        Array.Fill(shape, 1L);
        shape[0] = -1;
        return dt.view(shape);
    }

    /// <summary>
    /// Scales a freshly evaluated slope by the per-row step: in place when no autograd graph is being recorded
    /// (the fastest form), out of place when one is (an in-place op could invalidate a saved activation).
    /// </summary>
    /// <param name="k">A slope the step owns, <c>[B, ...]</c>.</param>
    /// <param name="h">The per-row step from <see cref="PerRow"/>.</param>
    /// <returns><c>h·k</c>.</returns>
    public static Tensor ScaleSlope(Tensor k, Tensor h) =>
        torch.is_grad_enabled() ? k.mul(h) : k.mul_(h);

    /// <summary>Creates a cached scalar for a tableau coefficient (generated code caches one per coefficient).</summary>
    /// <param name="value">The coefficient.</param>
    /// <returns>A native scalar that lives as long as the process.</returns>
    public static Scalar Coefficient(double value) => value.ToScalar();
}
