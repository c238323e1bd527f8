using static TorchSharp.torch;

namespace NeuralOde.Stepping;

/// <summary>
/// The tensors one explicit Runge–Kutta step produces. The caller owns them (they were moved out of the step's
/// dispose scope) and disposes them with <see cref="Dispose"/> unless it keeps some.
/// </summary>
public sealed class RungeKuttaStep : IDisposable
{
    /// <summary>Creates a step result.</summary>
    /// <param name="y">The propagated solution at <c>t + dt</c>, <c>[B, ...]</c>.</param>
    /// <param name="error">The local error estimate <c>h·Σ eᵢkᵢ</c>, <c>[B, ...]</c>, or null without embedded weights.</param>
    /// <param name="endSlope">The slope <c>f(t + dt, y)</c> when the scheme is FSAL, else null.</param>
    /// <param name="scaledStages">The stage slopes scaled by each row's step, <c>h·kᵢ</c>, each <c>[B, ...]</c>.</param>
    public RungeKuttaStep(Tensor y, Tensor? error, Tensor? endSlope, IReadOnlyList<Tensor> scaledStages)
    {
        Y = y;
        Error = error;
        EndSlope = endSlope;
        ScaledStages = scaledStages;
    }

    /// <summary>Gets the propagated solution at <c>t + dt</c>, <c>[B, ...]</c>.</summary>
    public Tensor Y { get; }

    /// <summary>Gets the local error estimate <c>h·Σ (bᵢ − b̂ᵢ) kᵢ</c>, <c>[B, ...]</c>; null for schemes without embedded weights.</summary>
    public Tensor? Error { get; }

    /// <summary>Gets <c>f(t + dt, Y)</c> for FSAL schemes (the next step's first stage, for free); null otherwise.</summary>
    public Tensor? EndSlope { get; }

    /// <summary>Gets the stage slopes scaled by the per-row step, <c>h·kᵢ</c> for i = 1…s, each <c>[B, ...]</c>.</summary>
    public IReadOnlyList<Tensor> ScaledStages { get; }

    /// <summary>Disposes every tensor of the step that is still alive.</summary>
    public void Dispose()
    {
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var tensor in ScaledStages.Append(Y).Append(Error).Append(EndSlope))
        {
            if (tensor is not null && seen.Add(tensor) && !tensor.IsInvalid)
            {
                tensor.Dispose();
            }
        }
    }
}
