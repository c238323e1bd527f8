using static TorchSharp.torch;

namespace NeuralOde.Modules;

/// <summary>The element-wise activations <see cref="MlpDynamics"/> and the classifiers offer.</summary>
public enum Activation
{
    /// <summary>tanh: smooth and bounded, the usual choice for neural-ODE dynamics.</summary>
    Tanh,

    /// <summary>softplus: smooth ReLU.</summary>
    Softplus,

    /// <summary>SiLU (swish): smooth, unbounded above.</summary>
    SiLU,

    /// <summary>GELU.</summary>
    Gelu,

    /// <summary>The logistic sigmoid.</summary>
    Sigmoid,

    /// <summary>ReLU: not differentiable at 0, which can cost adaptive solvers extra steps.</summary>
    ReLU,
}

/// <summary>Applies an <see cref="Activation"/>.</summary>
public static class ActivationExtensions
{
    /// <summary>Applies the activation element-wise, out of place.</summary>
    /// <param name="activation">The activation.</param>
    /// <param name="x">The input.</param>
    /// <returns>A new tensor.</returns>
    public static Tensor Apply(this Activation activation, Tensor x) => activation switch
    {
        Activation.Tanh => x.tanh(),
        Activation.Softplus => nn.functional.softplus(x),
        Activation.SiLU => nn.functional.silu(x),
        Activation.Gelu => nn.functional.gelu(x),
        Activation.Sigmoid => x.sigmoid(),
        Activation.ReLU => x.relu(),
        _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, "Unknown activation."),
    };
}
