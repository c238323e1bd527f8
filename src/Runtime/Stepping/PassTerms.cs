using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace NeuralOde.Stepping;

/// <summary>The terms of one pass of a host combination: up to eight tensors' memory and their weights in the state's
/// element type (missing terms are empty with weight 0, and <see cref="Count"/> says how many there are).</summary>
/// <typeparam name="T">The element type.</typeparam>
internal readonly ref struct PassTerms<T>
    where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
{
    /// <summary>Takes terms j … j + 7 (those that exist) of a combination.</summary>
    /// <param name="terms">The combination's terms, <c>[B, ...]</c> each, contiguous on the CPU.</param>
    /// <param name="weights">Their weights.</param>
    /// <param name="j">The first term of the pass.</param>
    public PassTerms(Tensor[] terms, double[] weights, int j)
    {
        Count = Math.Min(terms.Length - j, 8);
        X1 = Term(terms, j);
        X2 = Term(terms, j + 1);
        X3 = Term(terms, j + 2);
        X4 = Term(terms, j + 3);
        X5 = Term(terms, j + 4);
        X6 = Term(terms, j + 5);
        X7 = Term(terms, j + 6);
        X8 = Term(terms, j + 7);
        W1 = Weight(weights, j);
        W2 = Weight(weights, j + 1);
        W3 = Weight(weights, j + 2);
        W4 = Weight(weights, j + 3);
        W5 = Weight(weights, j + 4);
        W6 = Weight(weights, j + 5);
        W7 = Weight(weights, j + 6);
        W8 = Weight(weights, j + 7);
    }

    /// <summary>Gets the number of terms, 1 … 8.</summary>
    public int Count { get; }

    /// <summary>Gets the first term's elements.</summary>
    public ReadOnlySpan<T> X1 { get; }

    /// <summary>Gets the second term's elements (empty when there is none).</summary>
    public ReadOnlySpan<T> X2 { get; }

    /// <summary>Gets the third term's elements (empty when there is none).</summary>
    public ReadOnlySpan<T> X3 { get; }

    /// <summary>Gets the fourth term's elements (empty when there is none).</summary>
    public ReadOnlySpan<T> X4 { get; }

    /// <summary>Gets the fifth term's elements (empty when there is none).</summary>
    public ReadOnlySpan<T> X5 { get; }

    /// <summary>Gets the sixth term's elements (empty when there is none).</summary>
    public ReadOnlySpan<T> X6 { get; }

    /// <summary>Gets the seventh term's elements (empty when there is none).</summary>
    public ReadOnlySpan<T> X7 { get; }

    /// <summary>Gets the eighth term's elements (empty when there is none).</summary>
    public ReadOnlySpan<T> X8 { get; }

    /// <summary>Gets the first weight.</summary>
    public T W1 { get; }

    /// <summary>Gets the second weight (0 when there is no second term).</summary>
    public T W2 { get; }

    /// <summary>Gets the third weight (0 when there is no third term).</summary>
    public T W3 { get; }

    /// <summary>Gets the fourth weight (0 when there is no fourth term).</summary>
    public T W4 { get; }

    /// <summary>Gets the fifth weight (0 when there is no fifth term).</summary>
    public T W5 { get; }

    /// <summary>Gets the sixth weight (0 when there is no sixth term).</summary>
    public T W6 { get; }

    /// <summary>Gets the seventh weight (0 when there is no seventh term).</summary>
    public T W7 { get; }

    /// <summary>Gets the eighth weight (0 when there is no eighth term).</summary>
    public T W8 { get; }

    private static ReadOnlySpan<T> Term(Tensor[] terms, int j) =>
        j < terms.Length ? MemoryMarshal.Cast<byte, T>(terms[j].bytes) : default;

    private static T Weight(double[] weights, int j) =>
        j < weights.Length ? T.CreateTruncating(weights[j]) : T.Zero;
}
