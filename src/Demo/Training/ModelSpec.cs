using System.Text.Json.Serialization;
using NeuralOde.Modules;
using NeuralOde.Solving;
using static TorchSharp.torch;

namespace NeuralOde.Demo.Training;

/// <summary>Which classifier to train.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ModelKind>))]
internal enum ModelKind
{
    /// <summary>The baseline: downsampling → the dynamics' MLP applied once → head.</summary>
    Mlp,

    /// <summary>The neural ODE: downsampling → ODE block over the same MLP → head.</summary>
    Ode,
}

/// <summary>
/// A classifier's architecture and solver, enough to rebuild it for loading a checkpoint: flatten → linear
/// <c>Inputs → Hidden</c> with tanh → (MLP <c>Hidden → Width (× Depth) → Hidden</c> applied once, or an ODE block over
/// it integrated from 0 to 1) → linear <c>Hidden → Classes</c>.
/// </summary>
internal sealed record ModelSpec
{
    /// <summary>Gets the model kind.</summary>
    public ModelKind Kind { get; init; } = ModelKind.Ode;

    /// <summary>Gets the flattened input size.</summary>
    public int Inputs { get; init; } = 784;

    /// <summary>Gets the hidden state's size (after downsampling).</summary>
    public int Hidden { get; init; } = 128;

    /// <summary>Gets the dynamics' (or the MLP body's) hidden width.</summary>
    public int Width { get; init; } = 128;

    /// <summary>Gets the dynamics' hidden layers.</summary>
    public int Depth { get; init; } = 1;

    /// <summary>Gets the number of classes.</summary>
    public int Classes { get; init; } = 10;

    /// <summary>Gets the activation of the dynamics.</summary>
    [JsonConverter(typeof(JsonStringEnumConverter<Activation>))]
    public Activation Activation { get; init; } = Activation.Tanh;

    /// <summary>Gets the Runge–Kutta scheme's name (ODE only).</summary>
    public string Scheme { get; init; } = "RKF45";

    /// <summary>Gets the relative tolerance of adaptive solves.</summary>
    public double Rtol { get; init; } = 1e-3;

    /// <summary>Gets the absolute tolerance of adaptive solves.</summary>
    public double Atol { get; init; } = 1e-4;

    /// <summary>Gets the number of fixed steps, or null for adaptive steps.</summary>
    public int? FixedSteps { get; init; }

    /// <summary>Gets how the ODE block computes gradients.</summary>
    [JsonConverter(typeof(JsonStringEnumConverter<GradientMode>))]
    public GradientMode Gradient { get; init; } = GradientMode.Backprop;

    /// <summary>Gets a one-line description, e.g. <c>ODE 784→64 tanh → ODE(64→128→64, RKF45 rtol 1e-3 atol 1e-4, backprop) → 10</c>.</summary>
    [JsonIgnore]
    public string Description
    {
        get
        {
            var body = $"{Hidden}→{string.Join("→", Enumerable.Repeat(Width, Depth))}→{Hidden} {Activation.ToString().ToLowerInvariant()}";
            var solver = FixedSteps is { } steps ? $"{Scheme} {steps} fixed steps" : FormattableString.Invariant($"{Scheme} rtol {Rtol:0.##e0} atol {Atol:0.##e0}");
            var middle = Kind == ModelKind.Ode
                ? $"ODE({body}, {solver}, {Gradient.ToString().ToLowerInvariant()})"
                : $"MLP({body}) once";
            return $"{Inputs}→{Hidden} tanh → {middle} → {Classes}";
        }
    }

    /// <summary>Gets the solver options the ODE block uses.</summary>
    /// <returns>The options.</returns>
    public SolverOptions SolverOptions() =>
        FixedSteps is { } steps ? Solving.SolverOptions.FixedSteps(steps) : Solving.SolverOptions.Adaptive(Rtol, Atol);

    /// <summary>Checks the values and the scheme's name.</summary>
    /// <exception cref="ArgumentException">A value is out of range or the scheme is unknown (or not adaptive).</exception>
    public void Validate()
    {
        if (Inputs < 1 || Hidden < 1 || Width < 1 || Depth < 1 || Classes < 2)
        {
            throw new ArgumentException($"Model sizes must be positive (hidden {Hidden}, width {Width}, depth {Depth}).");
        }

        if (Kind == ModelKind.Ode)
        {
            var scheme = NeuralOde.Schemes.Get(Scheme);
            if (FixedSteps is null && !scheme.HasErrorEstimate)
            {
                throw new ArgumentException($"The scheme {scheme.Name} has no embedded error estimate, so it cannot take adaptive steps: give --fixed-steps N or choose RKF45, DOPRI5, Tsit5, ….");
            }

            if (FixedSteps is < 1)
            {
                throw new ArgumentException($"--fixed-steps must be at least 1; got {FixedSteps}.");
            }

            if (FixedSteps is null && (!(Rtol > 0) || !(Atol >= 0)))
            {
                throw new ArgumentException($"Tolerances must be positive (rtol {Rtol}, atol {Atol}).");
            }
        }
    }

    /// <summary>Builds the classifier with freshly initialized weights (from torch's global generator).</summary>
    /// <returns>The module.</returns>
    public nn.Module<Tensor, Tensor> Build()
    {
        Validate();
        return Kind switch
        {
            ModelKind.Ode => new OdeClassifier(Inputs, Hidden, Width, Depth, Classes, NeuralOde.Schemes.Get(Scheme), SolverOptions(), Gradient, Activation),
            _ => new MlpClassifier(Inputs, Hidden, Width, Depth, Classes, Activation),
        };
    }
}
