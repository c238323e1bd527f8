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
    /// <c>start + Σⱼ wⱼ·termⱼ</c> elementwise (or <c>Σⱼ wⱼ·termⱼ</c> without a start), a new tensor, evaluated left to
    /// right (((start + w₁t₁) + w₂t₂) + …). On the CPU, when no autograd graph is being recorded, it is one pass over
    /// memory per eight terms, summed in registers into a single new tensor (no intermediate tensors, no per-term
    /// operation); otherwise the same chain of tensor operations. Every element is computed by the same expression
    /// wherever it sits, so a row's result does not depend on the other rows.
    /// </summary>
    /// <param name="start">The start, <c>[B, ...]</c>, or null.</param>
    /// <param name="weights">The nonzero weights, one per term.</param>
    /// <param name="terms">The terms, each of the start's shape and dtype.</param>
    /// <returns>The combination, <c>[B, ...]</c>.</returns>
    public static Tensor Combine(Tensor? start, CombinationWeights weights, params Tensor[] terms)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(terms);
        if (terms.Length != weights.Values.Length || terms.Length == 0)
        {
            throw new ArgumentException($"A combination of {terms.Length} terms needs as many weights; got {weights.Values.Length}.", nameof(terms));
        }

        var first = start ?? terms[0];
        if (OnHost(first, start, terms))
        {
            return first.dtype == ScalarType.Float32
                ? HostCombine<float>(start, weights.Values, terms)
                : HostCombine<double>(start, weights.Values, terms);
        }

        var scalars = weights.Scalars;
        var result = start is null ? terms[0].mul(scalars[0]) : start.add(terms[0], scalars[0]);
        for (var j = 1; j < terms.Length; j++)
        {
            result = result.add_(terms[j], scalars[j]);
        }

        return result;
    }

    /// <summary>
    /// The embedded error estimate <c>Σⱼ eⱼ·hkⱼ</c>, computed without an autograd graph: it only steers the step size
    /// and is never differentiated, so recording it would cost graph nodes for nothing (and on the CPU it is then one
    /// pass over memory, as <see cref="Combine"/> without a graph).
    /// </summary>
    /// <param name="weights">The nonzero error weights, one per term.</param>
    /// <param name="terms">The scaled stages with a nonzero weight, <c>[B, ...]</c> each.</param>
    /// <returns>The estimate, <c>[B, ...]</c>, without a graph.</returns>
    public static Tensor ErrorEstimate(CombinationWeights weights, params Tensor[] terms)
    {
        using var noGraph = torch.no_grad();
        return Combine(null, weights, terms);
    }

    /// <summary>
    /// Scales a freshly evaluated slope by the per-row step: in place when no autograd graph is being recorded
    /// (the fastest form), out of place when one is (an in-place op could invalidate a saved activation).
    /// </summary>
    /// <param name="k">A slope the step owns, <c>[B, ...]</c>.</param>
    /// <param name="h">The per-row step from <see cref="PerRow"/>.</param>
    /// <returns><c>h·k</c>.</returns>
    public static Tensor ScaleSlope(Tensor k, Tensor h) =>
        torch.is_grad_enabled() ? k.mul(h) : k.mul_(h);

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

    private static Tensor HostCombine<T>(Tensor? start, double[] weights, Tensor[] terms)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        // empty_like, not empty(shape): reading a shape allocates an array through a callback from native code.
        var result = empty_like(start ?? terms[0]);
        var output = MemoryMarshal.Cast<byte, T>(result.bytes);

        // Up to eight terms per pass, summed in registers and stored once: ((a + w₁x₁) + w₂x₂) + … + w₈x₈, each
        // product rounded before it is added. The first pass starts from `start` (or from w₁x₁ without one), the next
        // ones from the result so far: every element gets the bits of the left-to-right sum, whatever its position.
        ReadOnlySpan<T> first = start is null ? default : MemoryMarshal.Cast<byte, T>(start.bytes);
        for (var j = 0; j < terms.Length; j += TermsPerPass)
        {
            var pass = new PassTerms<T>(terms, weights, j);
            Pass(j == 0 ? first : output, in pass, output);
        }

        return result;
    }

    // result = a + w₁x₁ + … + w_count·x_count, left to right (a empty: w₁x₁ + …); result may be a. The term count is
    // the same for every element, so its tests inside the loop always branch the same way.
    private static void Pass<T>(ReadOnlySpan<T> a, in PassTerms<T> p, Span<T> result)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var lanes = Vector<T>.Count;
        var n = result.Length;
        var count = p.Count;
        var hasStart = !a.IsEmpty;
        var (v1, v2, v3, v4) = (new Vector<T>(p.W1), new Vector<T>(p.W2), new Vector<T>(p.W3), new Vector<T>(p.W4));
        var (v5, v6, v7, v8) = (new Vector<T>(p.W5), new Vector<T>(p.W6), new Vector<T>(p.W7), new Vector<T>(p.W8));
        var k = 0;
        for (; k + lanes <= n; k += lanes)
        {
            var acc = v1 * new Vector<T>(p.X1.Slice(k, lanes));
            acc = hasStart ? new Vector<T>(a.Slice(k, lanes)) + acc : acc;
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

            acc.CopyTo(result.Slice(k, lanes));
        }

        for (; k < n; k++)
        {
            var acc = p.W1 * p.X1[k];
            acc = hasStart ? a[k] + acc : acc;
            acc = count > 1 ? acc + (p.W2 * p.X2[k]) : acc;
            acc = count > 2 ? acc + (p.W3 * p.X3[k]) : acc;
            acc = count > 3 ? acc + (p.W4 * p.X4[k]) : acc;
            acc = count > 4 ? acc + (p.W5 * p.X5[k]) : acc;
            acc = count > 5 ? acc + (p.W6 * p.X6[k]) : acc;
            acc = count > 6 ? acc + (p.W7 * p.X7[k]) : acc;
            acc = count > 7 ? acc + (p.W8 * p.X8[k]) : acc;
            result[k] = acc;
        }
    }
}
