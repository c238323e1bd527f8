using System.Numerics;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace NeuralOde.Stepping;

/// <summary>
/// A scheme's continuous extension at fractions θ that the solver holds on the host: the weights bᵢ(θ) of every row
/// are evaluated from the tableau's <see cref="ButcherTableau.BTheta"/> in float64 on the host (Horner), so that the
/// state is <c>y + Σᵢ h·bᵢ(θ)·kᵢ</c> in one pass over memory on the CPU without a graph, and otherwise one fused
/// multiply-add per stage with a nonzero polynomial, with no tensor operation for the polynomials themselves.
/// </summary>
/// <remarks>
/// The same extension as the generated <c>Interpolate</c>, evaluated in another order (the polynomials in float64
/// rather than in the state's dtype). Every row is computed from its own weights and values alone, so a row gets the
/// same bits wherever it sits in the batch.
/// </remarks>
internal static class HostInterpolation
{
    private static readonly Scalar One = 1.0.ToScalar();

    /// <summary>The interpolated states.</summary>
    /// <param name="scheme">The scheme; it must declare a continuous extension.</param>
    /// <param name="y">The states at the step's start, <c>[W, ...]</c>.</param>
    /// <param name="step">The step, with its dense stages when the scheme has some.</param>
    /// <param name="dt">Each row's step, <c>[W]</c> (weights every slope, rounded to the state's dtype as the step used it).</param>
    /// <param name="endSlope">f(t + dt, y₁), <c>[W, ...]</c>, when the extension uses it; else null.</param>
    /// <param name="theta">Each row's fraction of the step, <c>[W]</c>.</param>
    /// <returns>The states, <c>[W, ...]</c>, with the autograd graph of the inputs when one is being recorded.</returns>
    public static Tensor Interpolate(RungeKuttaScheme scheme, Tensor y, RungeKuttaStep step, ReadOnlySpan<double> dt, Tensor? endSlope, ReadOnlySpan<double> theta)
    {
        var rows = scheme.Tableau.BTheta ?? throw new NotSupportedException($"The scheme '{scheme.Name}' declares no dense output.");
        var width = theta.Length;
        var terms = new List<Tensor>(rows.Count);
        var weights = new List<double[]>(rows.Count);
        for (var i = 0; i < rows.Count; i++)
        {
            var polynomial = rows[i];
            if (polynomial.All(static d => d.Value == 0))
            {
                continue;
            }

            var usesEndSlope = scheme.InterpolationUsesEndSlope && i == scheme.Stages;
            terms.Add(usesEndSlope ? endSlope ?? throw new ArgumentNullException(nameof(endSlope)) : step.Slopes[i]);
            var w = new double[width];
            for (var r = 0; r < width; r++)
            {
                // bᵢ(θ) = Σₖ dᵢₖ·θᵏ (k from 1), by Horner.
                var value = 0.0;
                for (var k = polynomial.Count - 1; k >= 0; k--)
                {
                    value = (value + polynomial[k].Value) * theta[r];
                }

                // Each weight takes the step as the step itself used it, in the state's dtype (the slopes are not scaled).
                w[r] = value * (y.dtype == ScalarType.Float32 ? (float)dt[r] : dt[r]);
            }

            weights.Add(w);
        }

        if (terms.Count == 0)
        {
            return y.clone();
        }

        if (StepKernels.OnHost(y, y, [.. terms]))
        {
            return y.dtype == ScalarType.Float32 ? HostPass<float>(y, terms, weights) : HostPass<double>(y, terms, weights);
        }

        // One [n, W] tensor of weights; each stage's column broadcast over its row.
        var flat = new double[terms.Count * width];
        for (var n = 0; n < terms.Count; n++)
        {
            weights[n].CopyTo(flat, n * width);
        }

        var shape = new long[y.dim() + 1];
        Array.Fill(shape, 1L);
        shape[0] = terms.Count;
        shape[1] = width;
        var table = Solving.HostMemory.Write(flat, y.dtype, y.device).view(shape);
        var result = y.addcmul(terms[0], table[0], One);
        for (var n = 1; n < terms.Count; n++)
        {
            result = result.addcmul_(terms[n], table[n], One);
        }

        return result;
    }

    // y + Σₙ wₙ[r]·termₙ over each row r, left to right.
    private static Tensor HostPass<T>(Tensor y, List<Tensor> terms, List<double[]> weights)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = empty_like(y);
        var output = MemoryMarshal.Cast<byte, T>(result.bytes);
        var start = MemoryMarshal.Cast<byte, T>(y.bytes);
        var width = weights[0].Length;
        var perRow = width == 0 ? 0 : output.Length / width;
        start.CopyTo(output);
        var lanes = Vector<T>.Count;
        for (var n = 0; n < terms.Count; n++)
        {
            var x = MemoryMarshal.Cast<byte, T>(terms[n].bytes);
            for (var r = 0; r < width; r++)
            {
                var w = T.CreateTruncating(weights[n][r]);
                var wv = new Vector<T>(w);
                var row = output.Slice(r * perRow, perRow);
                var values = x.Slice(r * perRow, perRow);
                var k = 0;
                for (; k + lanes <= perRow; k += lanes)
                {
                    (new Vector<T>(row.Slice(k, lanes)) + (wv * new Vector<T>(values.Slice(k, lanes)))).CopyTo(row.Slice(k, lanes));
                }

                for (; k < perRow; k++)
                {
                    row[k] += w * values[k];
                }
            }
        }

        return result;
    }
}
