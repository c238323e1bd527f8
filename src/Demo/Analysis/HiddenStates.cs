using NeuralOde.Modules;
using static TorchSharp.torch;

namespace NeuralOde.Demo.Analysis;

/// <summary>The states of a batch at one layer of the MLP.</summary>
/// <param name="Name">The layer's name, e.g. <c>h₀ = tanh(downsample)</c>.</param>
/// <param name="States">The states, <c>[N, D]</c>; owned by the caller.</param>
internal sealed record LayerStates(string Name, Tensor States);

/// <summary>Reads the hidden states of the trained classifiers (no gradients).</summary>
internal static class HiddenStates
{
    /// <summary>
    /// The MLP's states layer by layer: <c>h₀</c> after the downsampling's tanh, each hidden layer of the body after
    /// its activation, and the body's output (what the head sees).
    /// </summary>
    /// <param name="model">The trained MLP.</param>
    /// <param name="activation">The body's activation.</param>
    /// <param name="x">The inputs, <c>[N, 1, 28, 28]</c>.</param>
    /// <returns>The states of every layer, in order.</returns>
    public static IReadOnlyList<LayerStates> Mlp(MlpClassifier model, Activation activation, Tensor x)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(x);
        using var noGrad = no_grad();
        var layers = new List<LayerStates>();
        var h = model.Encode(x);
        layers.Add(new LayerStates($"h0 = tanh(downsample) [{h.shape[1]}]", h));
        var trace = model.Body.Trace(zeros(h.shape[0], dtype: h.dtype, device: h.device), h);
        for (var i = 0; i < trace.Count - 1; i++)
        {
            layers.Add(new LayerStates($"hidden {i + 1} = {activation.ToString().ToLowerInvariant()}(linear) [{trace[i].shape[1]}]", trace[i]));
        }

        layers.Add(new LayerStates($"body output (to the head) [{trace[^1].shape[1]}]", trace[^1]));
        return layers;
    }

    /// <summary>The ODE's state at the given times for each input.</summary>
    /// <param name="model">The trained neural ODE.</param>
    /// <param name="x">The inputs, <c>[N, 1, 28, 28]</c>.</param>
    /// <param name="times">Times in [0, 1], increasing (the first is 0, the last 1).</param>
    /// <returns>The states, <c>[N, T, D]</c>.</returns>
    public static Tensor OdeTrajectory(OdeClassifier model, Tensor x, double[] times)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(x);
        using var noGrad = no_grad();
        using var h0 = model.Encode(x);
        var saved = model.Block.OutputTimes;
        model.Block.OutputTimes = times;
        try
        {
            return model.Block.forward(h0);
        }
        finally
        {
            model.Block.OutputTimes = saved;
        }
    }

    /// <summary>Evenly spaced times from 0 to 1.</summary>
    /// <param name="count">The number of times, at least 2.</param>
    /// <returns>The times.</returns>
    public static double[] Times(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 2);
        return [.. Enumerable.Range(0, count).Select(i => i == count - 1 ? 1.0 : (double)i / (count - 1))];
    }
}
