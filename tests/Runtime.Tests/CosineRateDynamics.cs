using NeuralOde.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace NeuralOde.Tests;

/// <summary><c>dy/dt = θ·cos(t)·y</c> with one parameter θ: <c>y(t1) = y0·exp(θ·(sin t1 − sin t0))</c>, so the exact
/// gradient of a loss of <c>y(t1)</c> is known in closed form.</summary>
internal sealed class CosineRateDynamics : OdeFunc
{
    private readonly TorchSharp.Modules.Parameter theta;

    public CosineRateDynamics(double value)
        : base(nameof(CosineRateDynamics))
    {
        theta = new TorchSharp.Modules.Parameter(tensor(value, dtype: ScalarType.Float64));
        RegisterComponents();
    }

    public double Theta => theta.item<double>();

    /// <param name="t">Each row's time, <c>[B]</c>.</param>
    /// <param name="y">The state, <c>[B, D]</c>.</param>
    public override Tensor forward(Tensor t, Tensor y) => y.mul(t.cos().unsqueeze(1)).mul(theta);
}
