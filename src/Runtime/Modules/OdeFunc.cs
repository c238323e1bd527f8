using static TorchSharp.torch;

namespace NeuralOde.Modules;

/// <summary>
/// The dynamics of a neural ODE as a TorchSharp module: <c>(t, y) → dy/dt</c>. Derive from it and override
/// <c>forward</c>; register submodules with <c>RegisterComponents()</c> as usual.
/// </summary>
/// <remarks>
/// <c>t</c> is <c>[B]</c>: every row has its own time, because the solvers adapt the step per row. <c>forward</c>
/// must return a new tensor of <c>y</c>'s shape (never <c>y</c> itself or a tensor it keeps).
/// </remarks>
public abstract class OdeFunc : nn.Module<Tensor, Tensor, Tensor>
{
    /// <summary>Creates the module.</summary>
    /// <param name="name">The module's name.</param>
    protected OdeFunc(string name)
        : base(name)
    {
    }
}
