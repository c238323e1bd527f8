using System.ComponentModel;
using System.Numerics;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace NeuralOde.Stepping;

/// <summary>
/// The few tensor helpers that generated steps call. Public for the generated code of any assembly; not meant
/// to be called directly.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class StepKernels
{
    // The terms of a combination summed in registers per pass over memory (as many as PassTerms<T> holds).
    private const int TermsPerPass = 8;

    private static readonly Scalar One = 1.0.ToScalar();

    /// <summary>Reshapes the per-row step <c>[B]</c> to <c>[B, 1, …, 1]</c> so that it broadcasts against a state.</summary>
    /// <param name="dt">The per-row step, <c>[B]</c>.</param>
    /// <param name="y">The state, <c>[B, ...]</c>.</param>
    /// <returns>A view of <paramref name="dt"/> with <paramref name="y"/>'s rank.</returns>
    public static Tensor PerRow(Tensor dt, Tensor y)
    {
        var rank = y.dim();
        if (rank == 1)
        {
            return dt.alias();
        }

        var shape = new long[rank];
        Array.Fill(shape, 1L);
        shape[0] = -1;
        return dt.view(shape);
    }

    /// <summary>
    /// The per-row step as the scale of a step's combinations: <see cref="PerRow"/>'s <c>[B, 1, …, 1]</c> view of
    /// <paramref name="dt"/>, or, on the CPU without an autograd graph when a row holds fewer elements than a vector
    /// register, the step repeated over each row's elements (<paramref name="y"/>'s shape), so that the combinations'
    /// passes over memory scale element by element. Computed once per step and shared by its combinations.
    /// </summary>
    /// <param name="dt">The per-row step, <c>[B]</c>.</param>
    /// <param name="y">The state, <c>[B, ...]</c>.</param>
    /// <returns>The scale, <c>[B, 1, …, 1]</c> or <c>[B, ...]</c>.</returns>
    public static Tensor StepScale(Tensor dt, Tensor y)
    {
        var h = PerRow(dt, y);
        var rows = y.size(0);
        var perRow = rows == 0 ? 0 : y.numel() / rows;
        var lanes = y.dtype == ScalarType.Float64 ? Vector<double>.Count : Vector<float>.Count;
        if (perRow >= lanes || perRow <= 1 || y.device_type != DeviceType.CPU || torch.is_grad_enabled())
        {
            return h;
        }

        using var expanded = h.expand_as(y);
        h.Dispose();
        return expanded.contiguous();
    }

    /// <summary>
    /// <c>start + scale·Σⱼ wⱼ·termⱼ</c> elementwise (<c>scale·Σⱼ wⱼ·termⱼ</c> without a start), a new tensor: the
    /// weighted sum left to right (((w₁t₁) + w₂t₂) + …), then multiplied by the scale and added to the start. On the
    /// CPU, when no autograd graph is being recorded, it is one pass over memory for up to eight terms, summed in
    /// registers; otherwise the same operations as tensors. Every element is computed by the same expression wherever
    /// it sits, so a row's result does not depend on the other rows.
    /// </summary>
    /// <param name="start">The start, <c>[B, ...]</c>, or null.</param>
    /// <param name="scale">The per-row scale from <see cref="StepScale"/>, <c>[B, 1, …, 1]</c> or the start's shape.</param>
    /// <param name="weights">The nonzero weights, one per term.</param>
    /// <param name="terms">The terms, each of the start's shape and dtype.</param>
    /// <returns>The combination, <c>[B, ...]</c>.</returns>
    public static Tensor Combine(Tensor? start, Tensor scale, CombinationWeights weights, params Tensor[] terms)
    {
        ArgumentNullException.ThrowIfNull(scale);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(terms);
        if (terms.Length != weights.Values.Length || terms.Length == 0)
        {
            throw new ArgumentException($"A combination of {terms.Length} terms needs as many weights; got {weights.Values.Length}.", nameof(terms));
        }

        var first = start ?? terms[0];
        if (OnHost(first, start, terms) && ScalesOnHost(scale, first))
        {
            return first.dtype == ScalarType.Float32
                ? HostCombine<float>(start, scale, weights.Values, terms)
                : HostCombine<double>(start, scale, weights.Values, terms);
        }

        var scalars = weights.Scalars;
        var sum = terms[0].mul(scalars[0]);
        for (var j = 1; j < terms.Length; j++)
        {
            sum = sum.add_(terms[j], scalars[j]);
        }

        return start is null ? sum.mul_(scale) : start.addcmul(sum, scale, One);
    }

    /// <summary>
    /// The embedded error estimate <c>scale·Σⱼ eⱼ·kⱼ</c>, computed without an autograd graph: it only steers the step
    /// size and is never differentiated (on the CPU it is then one pass over memory, as <see cref="Combine(Tensor?, Tensor, CombinationWeights, Tensor[])"/>).
    /// </summary>
    /// <param name="scale">The per-row scale from <see cref="StepScale"/>.</param>
    /// <param name="weights">The nonzero error weights, one per term.</param>
    /// <param name="terms">The slopes with a nonzero weight, <c>[B, ...]</c> each.</param>
    /// <returns>The estimate, <c>[B, ...]</c>, without a graph.</returns>
    public static Tensor ErrorEstimate(Tensor scale, CombinationWeights weights, params Tensor[] terms)
    {
        using var noGraph = torch.no_grad();
        return Combine(null, scale, weights, terms);
    }

    /// <summary>Creates a cached scalar for a tableau coefficient (generated code caches one per coefficient).</summary>
    /// <param name="value">The coefficient.</param>
    /// <returns>A native scalar that lives as long as the process.</returns>
    public static Scalar Coefficient(double value) => value.ToScalar();

    // Whether a combination can run over the tensors' memory: CPU, contiguous, one float dtype and size, and no graph.
    internal static bool OnHost(Tensor first, Tensor? start, Tensor[] terms)
    {
        if (first.device_type != DeviceType.CPU || first.dtype is not (ScalarType.Float32 or ScalarType.Float64) || !first.is_contiguous())
        {
            return false;
        }

        var recording = torch.is_grad_enabled();
        if (start is not null && recording && start.requires_grad)
        {
            return false;
        }

        var count = first.numel();
        foreach (var term in terms)
        {
            if (term.device_type != DeviceType.CPU || term.dtype != first.dtype || !term.is_contiguous() || term.numel() != count || (recording && term.requires_grad))
            {
                return false;
            }
        }

        return true;
    }

    // Whether a combination's pass can read the scale through its memory: on the CPU, contiguous, in the state's dtype,
    // and of the state's shape (one value per element), [B, 1, …, 1] (one per row) or a single value. Any other shape
    // broadcasts as tensor operations: a [1, D] scale of a [D, D] state has a value per row's worth of elements, but
    // per column.
    private static bool ScalesOnHost(Tensor scale, Tensor first)
    {
        if (scale.device_type != DeviceType.CPU || scale.dtype != first.dtype || !scale.is_contiguous())
        {
            return false;
        }

        if (scale.numel() == 1)
        {
            return true;
        }

        var rank = first.dim();
        if (scale.dim() != rank || rank == 0 || scale.size(0) != first.size(0))
        {
            return false;
        }

        var perRow = true;
        var perElement = true;
        for (var d = 1; d < rank; d++)
        {
            var size = scale.size(d);
            perRow &= size == 1;
            perElement &= size == first.size(d);
        }

        return perRow || perElement;
    }

    private static Tensor HostCombine<T>(Tensor? start, Tensor scale, double[] weights, Tensor[] terms)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        // empty_like, not empty(shape): reading a shape allocates an array through a callback from native code.
        var result = empty_like(start ?? terms[0]);
        var output = MemoryMarshal.Cast<byte, T>(result.bytes);
        var scales = MemoryMarshal.Cast<byte, T>(scale.bytes);
        ReadOnlySpan<T> first = start is null ? default : MemoryMarshal.Cast<byte, T>(start.bytes);

        // Up to eight terms per pass summed in registers; the last pass scales the sum and adds the start. With more
        // terms, the earlier passes store the partial sum (in T, the bits the registers held) for the next: a pass
        // with the scale 1 (exact) and no start.
        ReadOnlySpan<T> unit = [T.One];
        for (var j = 0; j < terms.Length; j += TermsPerPass)
        {
            var pass = new PassTerms<T>(terms, weights, j);
            var partial = j == 0 ? default : (ReadOnlySpan<T>)output;
            var last = j + TermsPerPass >= terms.Length;
            ScaledPass(partial, in pass, last ? scales : unit, last ? first : default, output);
        }

        return result;
    }

    // result = start + scale·(partial + w₁x₁ + … + w_count·x_count) (partial and start may be empty), the sum left to
    // right. The scale holds one value per row (each row's elements contiguous: the vector lanes start at the row's
    // first element and its tail is scalar), one for all (one run) or one per element (one run).
    private static void ScaledPass<T>(ReadOnlySpan<T> partial, in PassTerms<T> p, ReadOnlySpan<T> scales, ReadOnlySpan<T> start, Span<T> result)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var n = result.Length;
        if (n == 0)
        {
            return;
        }

        var perElement = scales.Length == n;
        var runs = perElement ? 1 : scales.Length;
        var runLength = n / runs;
        var lanes = Vector<T>.Count;
        var count = p.Count;
        var hasPartial = !partial.IsEmpty;
        var hasStart = !start.IsEmpty;
        var (v1, v2, v3, v4) = (new Vector<T>(p.W1), new Vector<T>(p.W2), new Vector<T>(p.W3), new Vector<T>(p.W4));
        var (v5, v6, v7, v8) = (new Vector<T>(p.W5), new Vector<T>(p.W6), new Vector<T>(p.W7), new Vector<T>(p.W8));
        for (var run = 0; run < runs; run++)
        {
            var runScale = perElement ? T.Zero : scales[run];
            var runScaleV = new Vector<T>(runScale);
            var k = run * runLength;
            var end = k + runLength;
            for (; k + lanes <= end; k += lanes)
            {
                var acc = v1 * new Vector<T>(p.X1.Slice(k, lanes));
                acc = hasPartial ? new Vector<T>(partial.Slice(k, lanes)) + acc : acc;
                if (count > 1)
                {
                    acc += v2 * new Vector<T>(p.X2.Slice(k, lanes));
                    if (count > 2)
                    {
                        acc += v3 * new Vector<T>(p.X3.Slice(k, lanes));
                        if (count > 3)
                        {
                            acc += v4 * new Vector<T>(p.X4.Slice(k, lanes));
                            if (count > 4)
                            {
                                acc += v5 * new Vector<T>(p.X5.Slice(k, lanes));
                                if (count > 5)
                                {
                                    acc += v6 * new Vector<T>(p.X6.Slice(k, lanes));
                                    if (count > 6)
                                    {
                                        acc += v7 * new Vector<T>(p.X7.Slice(k, lanes));
                                        if (count > 7)
                                        {
                                            acc += v8 * new Vector<T>(p.X8.Slice(k, lanes));
                                        }
                                    }
                                }
                            }
                        }
                    }
                }

                acc = (perElement ? new Vector<T>(scales.Slice(k, lanes)) : runScaleV) * acc;
                acc = hasStart ? new Vector<T>(start.Slice(k, lanes)) + acc : acc;
                acc.CopyTo(result.Slice(k, lanes));
            }

            for (; k < end; k++)
            {
                var acc = p.W1 * p.X1[k];
                acc = hasPartial ? partial[k] + acc : acc;
                acc = count > 1 ? acc + (p.W2 * p.X2[k]) : acc;
                acc = count > 2 ? acc + (p.W3 * p.X3[k]) : acc;
                acc = count > 3 ? acc + (p.W4 * p.X4[k]) : acc;
                acc = count > 4 ? acc + (p.W5 * p.X5[k]) : acc;
                acc = count > 5 ? acc + (p.W6 * p.X6[k]) : acc;
                acc = count > 6 ? acc + (p.W7 * p.X7[k]) : acc;
                acc = count > 7 ? acc + (p.W8 * p.X8[k]) : acc;
                acc = (perElement ? scales[k] : runScale) * acc;
                result[k] = hasStart ? start[k] + acc : acc;
            }
        }
    }
}
