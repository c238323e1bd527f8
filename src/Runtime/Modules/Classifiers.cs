using NeuralOde.Stepping;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NeuralOde.Modules;

/// <summary>
/// An image classifier whose hidden layer is a neural ODE: flatten → linear downsampling with tanh →
/// <see cref="OdeBlock"/> over <see cref="MlpDynamics"/> → linear head (DiffEqFlux's MNIST layout:
/// 784 → 20 tanh → ODE(20 → 10 → 10 → 20) → 10).
/// </summary>
public sealed class OdeClassifier : nn.Module<Tensor, Tensor>
{
    private readonly Linear downsample;
    private readonly OdeBlock odeblock;
    private readonly Linear head;

    /// <summary>Creates the classifier.</summary>
    /// <param name="inputs">Input features after flattening (784 for MNIST).</param>
    /// <param name="hidden">The ODE state's size.</param>
    /// <param name="width">The dynamics' hidden width.</param>
    /// <param name="depth">The dynamics' hidden layers.</param>
    /// <param name="classes">The number of classes.</param>
    /// <param name="scheme">The scheme for the ODE block.</param>
    /// <param name="options">Its solver options.</param>
    /// <param name="gradientMode">Backprop or adjoint.</param>
    /// <param name="activation">The dynamics' activation.</param>
    public OdeClassifier(int inputs, int hidden, int width, int depth, int classes, RungeKuttaScheme scheme, Solving.SolverOptions? options = null, GradientMode gradientMode = GradientMode.Backprop, Activation activation = Activation.Tanh)
        : base(nameof(OdeClassifier))
    {
        downsample = nn.Linear(inputs, hidden);
        odeblock = new OdeBlock(new MlpDynamics(hidden, width, depth, activation), scheme, options, 0.0, 1.0, gradientMode);
        head = nn.Linear(hidden, classes);
        RegisterComponents();
    }

    /// <summary>Gets the ODE block (for its stats and options).</summary>
    public OdeBlock Block => odeblock;

    /// <summary>Maps inputs to the ODE's initial state: flatten, linear, tanh.</summary>
    /// <param name="x">The inputs, <c>[B, ...]</c>.</param>
    /// <returns>The initial states, <c>[B, hidden]</c>.</returns>
    public Tensor Encode(Tensor x)
    {
        using var scope = NewDisposeScope();
        return downsample.forward(x.flatten(1)).tanh().MoveToOuterDisposeScope();
    }

    /// <summary>Computes class logits.</summary>
    /// <param name="x">The inputs, <c>[B, ...]</c> (for example <c>[B, 1, 28, 28]</c>).</param>
    /// <returns>The logits, <c>[B, classes]</c>.</returns>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return head.forward(odeblock.forward(Encode(x))).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// The baseline with matching layers and no ODE: flatten → linear downsampling with tanh → the same MLP as the
/// ODE's dynamics applied once → linear head.
/// </summary>
public sealed class MlpClassifier : nn.Module<Tensor, Tensor>
{
    private readonly Linear downsample;
    private readonly MlpDynamics body;
    private readonly Linear head;

    /// <summary>Creates the classifier.</summary>
    /// <param name="inputs">Input features after flattening.</param>
    /// <param name="hidden">The hidden size (the ODE state's size in the matching ODE model).</param>
    /// <param name="width">The body's hidden width.</param>
    /// <param name="depth">The body's hidden layers.</param>
    /// <param name="classes">The number of classes.</param>
    /// <param name="activation">The body's activation.</param>
    public MlpClassifier(int inputs, int hidden, int width, int depth, int classes, Activation activation = Activation.Tanh)
        : base(nameof(MlpClassifier))
    {
        downsample = nn.Linear(inputs, hidden);
        body = new MlpDynamics(hidden, width, depth, activation);
        head = nn.Linear(hidden, classes);
        RegisterComponents();
    }

    /// <summary>Gets the body: the same MLP as the matching ODE model's dynamics, applied once.</summary>
    public MlpDynamics Body => body;

    /// <summary>Maps inputs to the first hidden state: flatten, linear, tanh.</summary>
    /// <param name="x">The inputs, <c>[B, ...]</c>.</param>
    /// <returns>The hidden states, <c>[B, hidden]</c>.</returns>
    public Tensor Encode(Tensor x)
    {
        using var scope = NewDisposeScope();
        return downsample.forward(x.flatten(1)).tanh().MoveToOuterDisposeScope();
    }

    /// <summary>Computes class logits.</summary>
    /// <param name="x">The inputs, <c>[B, ...]</c>.</param>
    /// <returns>The logits, <c>[B, classes]</c>.</returns>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = Encode(x);
        var t = zeros(h.shape[0], dtype: h.dtype, device: h.device);
        return head.forward(body.forward(t, h)).MoveToOuterDisposeScope();
    }
}
