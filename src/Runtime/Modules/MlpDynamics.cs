using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NeuralOde.Modules;

/// <summary>
/// MLP dynamics <c>dy/dt = MLP([y, t])</c>: <c>depth</c> hidden layers of <c>width</c>
/// units with an activation, then a linear layer back to the state's size.
/// </summary>
/// <remarks>
/// State-dict keys: <c>layers.0.weight</c>, <c>layers.0.bias</c>, … (the last layer is linear). With
/// <c>timeInput</c>, the first layer takes <c>[y, t]</c> (D + 1 inputs).
/// </remarks>
public sealed class MlpDynamics : OdeFunc
{
    private readonly ModuleList<Linear> layers;

    /// <summary>Creates the dynamics.</summary>
    /// <param name="dim">The state's size D.</param>
    /// <param name="width">The hidden width.</param>
    /// <param name="depth">The number of hidden layers (at least 1).</param>
    /// <param name="activation">The hidden activation.</param>
    /// <param name="timeInput">Whether the first layer also sees the time (non-autonomous dynamics).</param>
    public MlpDynamics(int dim, int width, int depth = 2, Activation activation = Activation.Tanh, bool timeInput = false)
        : base(nameof(MlpDynamics))
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dim, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(depth, 1);
        Dim = dim;
        Width = width;
        Depth = depth;
        Activation = activation;
        TimeInput = timeInput;

        var linears = new List<Linear> { nn.Linear(dim + (timeInput ? 1 : 0), width) };
        for (var i = 1; i < depth; i++)
        {
            linears.Add(nn.Linear(width, width));
        }

        linears.Add(nn.Linear(width, dim));
        layers = nn.ModuleList([.. linears]);
        RegisterComponents();
    }

    /// <summary>Gets the state's size D.</summary>
    public int Dim { get; }

    /// <summary>Gets the hidden width.</summary>
    public int Width { get; }

    /// <summary>Gets the number of hidden layers.</summary>
    public int Depth { get; }

    /// <summary>Gets the hidden activation.</summary>
    public Activation Activation { get; }

    /// <summary>Gets whether the time is an input.</summary>
    public bool TimeInput { get; }

    /// <summary>
    /// Evaluates dy/dt and returns every layer's output on the way: the hidden layers after their activation, then
    /// the output (dy/dt itself). Used to look at an MLP's states layer by layer.
    /// </summary>
    /// <param name="t">Each row's time, <c>[B]</c>.</param>
    /// <param name="y">The state, <c>[B, D]</c>.</param>
    /// <returns><see cref="Depth"/> hidden states <c>[B, width]</c> followed by the output <c>[B, D]</c>; owned by
    /// the caller.</returns>
    public IReadOnlyList<Tensor> Trace(Tensor t, Tensor y)
    {
        CheckState(y);
        var outputs = new List<Tensor>();
        using var scope = NewDisposeScope();
        var x = TimeInput ? cat([y, t.to(y.dtype).unsqueeze(1)], 1) : y;
        for (var i = 0; i < layers.Count - 1; i++)
        {
            x = Activation.Apply(layers[i].forward(x));
            outputs.Add(x);
        }

        outputs.Add(layers[layers.Count - 1].forward(x));
        foreach (var output in outputs)
        {
            output.MoveToOuterDisposeScope();
        }

        return outputs;
    }

    /// <summary>Evaluates dy/dt.</summary>
    /// <param name="t">Each row's time, <c>[B]</c>.</param>
    /// <param name="y">The state, <c>[B, D]</c>.</param>
    /// <returns>dy/dt, <c>[B, D]</c>.</returns>
    public override Tensor forward(Tensor t, Tensor y)
    {
        CheckState(y);
        using var scope = NewDisposeScope();
        var x = TimeInput ? cat([y, t.to(y.dtype).unsqueeze(1)], 1) : y;
        for (var i = 0; i < layers.Count - 1; i++)
        {
            x = Activation.Apply(layers[i].forward(x));
        }

        return layers[layers.Count - 1].forward(x).MoveToOuterDisposeScope();
    }

    private void CheckState(Tensor y)
    {
        if (y.dim() != 2 || y.shape[1] != Dim)
        {
            throw new ArgumentException($"MlpDynamics expects a state of shape [B, {Dim}]; got [{string.Join(", ", y.shape)}].", nameof(y));
        }
    }
}
