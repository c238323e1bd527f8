using System.ComponentModel;
using TorchSharp;

namespace NeuralOde.Stepping;

/// <summary>
/// The nonzero weights of one linear combination of a tableau (a row of A, B or the error weights E), in stage order,
/// both as libtorch scalars and as doubles: what <see cref="StepKernels.Combine"/> takes. Public for generated code;
/// not meant to be used directly.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class CombinationWeights
{
    /// <summary>Creates the weights of the nonzero coefficients, in order.</summary>
    /// <param name="coefficients">The row's coefficients, zeros included.</param>
    public CombinationWeights(IEnumerable<Coefficient> coefficients)
    {
        ArgumentNullException.ThrowIfNull(coefficients);
        Values = [.. coefficients.Select(static c => c.Value).Where(static v => v != 0)];
        Scalars = [.. Values.Select(static v => v.ToScalar())];
    }

    /// <summary>Gets the nonzero weights.</summary>
    public double[] Values { get; }

    /// <summary>Gets the nonzero weights as libtorch scalars.</summary>
    public Scalar[] Scalars { get; }
}
