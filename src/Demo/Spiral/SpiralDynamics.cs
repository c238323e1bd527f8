using NeuralOde.Modules;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NeuralOde.Demo.Spiral;

/// <summary>
/// The learned dynamics of torchdiffeq's <c>ode_demo.py</c>: <c>dy/dt = W₂·tanh(W₁·y³ + b₁) + b₂</c>, a 2 → 50 → 2
/// MLP applied to the cubed state, weights drawn from N(0, 0.1²) and biases zero as there.
/// </summary>
/// <remarks>State-dict keys: <c>hidden.weight</c>, <c>hidden.bias</c>, <c>output.weight</c>, <c>output.bias</c>.</remarks>
internal sealed class SpiralDynamics : OdeFunc
{
    private readonly Linear hidden;
    private readonly Linear output;

    /// <summary>Creates the dynamics with ode_demo's initialization (draws from torch's global generator).</summary>
    /// <param name="width">The hidden width (50 in ode_demo).</param>
    public SpiralDynamics(int width = 50)
        : base(nameof(SpiralDynamics))
    {
        hidden = nn.Linear(2, width);
        output = nn.Linear(width, 2);
        using (no_grad())
        {
            foreach (var layer in new[] { hidden, output })
            {
                nn.init.normal_(layer.weight!, 0.0, 0.1);
                nn.init.zeros_(layer.bias!);
            }
        }

        RegisterComponents();
    }

    /// <summary>Evaluates dy/dt (autonomous: <paramref name="t"/> is not used).</summary>
    /// <param name="t">Each row's time, <c>[B]</c>.</param>
    /// <param name="y">The states, <c>[B, 2]</c>.</param>
    /// <returns>dy/dt, <c>[B, 2]</c>.</returns>
    public override Tensor forward(Tensor t, Tensor y)
    {
        using var scope = NewDisposeScope();
        return output.forward(hidden.forward(y.pow(3)).tanh()).MoveToOuterDisposeScope();
    }
}
