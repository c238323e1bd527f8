using static TorchSharp.torch;

namespace NeuralOde.Demo.Bench;

/// <summary>
/// A batch of harmonic oscillators with a frequency of their own: row i has the state <c>y = (x, v)</c>, <c>[B, 2]</c>,
/// with <c>x' = v</c>, <c>v' = −ωᵢ² x</c>, <c>y(0) = (1, 0)</c> and the exact solution <c>x = cos ωᵢt</c>,
/// <c>v = −ωᵢ sin ωᵢt</c>. The frequencies <c>ωᵢ = 0.5 + 1.5·frac(i·φ)</c> (φ the golden ratio's fractional part) are
/// spread evenly over [0.5, 2) without a random generator and depend on the row's index only (a batch of n rows is the
/// first n rows of any larger one); rows need different numbers of steps.
/// </summary>
internal sealed class HarmonicOscillators : IMemoryProblem
{
    private const double GoldenFraction = 0.61803398874989484820;

    private readonly Tensor minusOmegaSquared;

    /// <summary>Creates <paramref name="rows"/> oscillators.</summary>
    /// <param name="rows">The batch size B, at least 1.</param>
    /// <param name="dtype">The state's dtype.</param>
    public HarmonicOscillators(long rows, ScalarType dtype)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        using var scope = NewDisposeScope();
        var omega = arange(rows, dtype: ScalarType.Float64).mul_(GoldenFraction).frac_().mul_(1.5).add_(0.5);
        Omega = omega.to(dtype).DetachFromDisposeScope();
        minusOmegaSquared = Omega.square().neg_().DetachFromDisposeScope();
        Y0 = cat([ones(rows, 1, dtype: dtype), zeros(rows, 1, dtype: dtype)], 1).DetachFromDisposeScope();
    }

    /// <summary>Gets each row's frequency ω, <c>[B]</c>.</summary>
    public Tensor Omega { get; }

    /// <summary>Gets the initial state <c>(1, 0)</c> of every row, <c>[B, 2]</c>.</summary>
    public Tensor Y0 { get; }

    /// <summary>Evaluates dy/dt for the rows the solver passes.</summary>
    /// <param name="t">Each row's time, <c>[n]</c> (unused: the system is autonomous).</param>
    /// <param name="y">The rows' states, <c>[n, 2]</c>.</param>
    /// <param name="rows">The rows' indices in the batch, <c>[n]</c>.</param>
    /// <returns>dy/dt = <c>(v, −ω² x)</c>, <c>[n, 2]</c>.</returns>
    public Tensor F(Tensor t, Tensor y, Tensor rows)
    {
        var coefficient = minusOmegaSquared.index_select(0, rows);
        return cat([y.narrow(1, 1, 1), y.narrow(1, 0, 1).mul(coefficient.unsqueeze(1))], 1);
    }

    /// <summary>The exact state of a range of rows at time <paramref name="t"/>, in float64.</summary>
    /// <param name="t">The time.</param>
    /// <param name="start">The first row.</param>
    /// <param name="length">The number of rows.</param>
    /// <returns><c>(cos ωt, −ω sin ωt)</c>, <c>[length, 2]</c>.</returns>
    public Tensor Reference(double t, long start, long length)
    {
        using var scope = NewDisposeScope();
        var omega = Omega.narrow(0, start, length).to(ScalarType.Float64);
        var phase = omega.mul(t);
        return stack([phase.cos(), phase.sin().mul(omega).neg_()], 1).MoveToOuterDisposeScope();
    }

    /// <summary>Disposes the tensors.</summary>
    public void Dispose()
    {
        Omega.Dispose();
        minusOmegaSquared.Dispose();
        Y0.Dispose();
    }
}
