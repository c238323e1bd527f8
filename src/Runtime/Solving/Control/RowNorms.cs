using System.Numerics;

namespace NeuralOde.Solving.Control;

/// <summary>
/// The per-row reductions of the control pass, in one sweep over the elements of a work set (row-major,
/// <c>[W, D]</c> flattened), on the host. Each row is reduced the same way wherever it sits in the batch: vector lanes
/// start at the row's first element and the row's tail is summed last, so a row's norm does not depend on its
/// neighbours (a row solved alone gets the same bits).
/// </summary>
internal static class RowNorms
{
    /// <summary>
    /// The RMS over each row of err / (atol + rtol·max(|y|, |y1|)), and whether each row's new state and norm are
    /// finite. Rows that are not active are skipped (norm 0, finite).
    /// </summary>
    /// <typeparam name="T">The state's element type (float or double); the sweep runs in it.</typeparam>
    /// <param name="error">The error estimate, <c>W·D</c> elements.</param>
    /// <param name="y">The state at the step's start.</param>
    /// <param name="y1">The new state.</param>
    /// <param name="tolerances">The rows' tolerances.</param>
    /// <param name="active">Which rows to reduce, <c>[W]</c>.</param>
    /// <param name="norms">Receives each row's norm, <c>[W]</c>.</param>
    /// <param name="finite">Receives whether each row's new state and norm are finite, <c>[W]</c>.</param>
    public static void ErrorNorms<T>(ReadOnlySpan<T> error, ReadOnlySpan<T> y, ReadOnlySpan<T> y1, in Tolerances tolerances, ReadOnlySpan<bool> active, Span<double> norms, Span<bool> finite)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var width = norms.Length;
        var perRow = error.Length / Math.Max(width, 1);
        var lanes = Vector<T>.Count;
        for (var row = 0; row < width; row++)
        {
            if (!active[row])
            {
                norms[row] = 0;
                finite[row] = true;
                continue;
            }

            var rtol = T.CreateTruncating(tolerances.Relative(row));
            var atol = T.CreateTruncating(tolerances.Absolute(row));
            var start = row * perRow;
            var e = error.Slice(start, perRow);
            var a = y.Slice(start, perRow);
            var b = y1.Slice(start, perRow);
            var sum = Vector<T>.Zero;
            var probe = Vector<T>.Zero;
            var rtolV = new Vector<T>(rtol);
            var atolV = new Vector<T>(atol);
            var k = 0;
            for (; k + lanes <= perRow; k += lanes)
            {
                var ek = new Vector<T>(e.Slice(k, lanes));
                var bk = new Vector<T>(b.Slice(k, lanes));
                var scale = (Vector.Max(Vector.Abs(new Vector<T>(a.Slice(k, lanes))), Vector.Abs(bk)) * rtolV) + atolV;
                var ratio = ek / scale;
                if (tolerances.PureRelative)
                {
                    // 0 / 0 (an exactly zero state and error under atol = 0) counts as 0.
                    ratio = Vector.ConditionalSelect(Vector.Equals(ek, Vector<T>.Zero), Vector<T>.Zero, ratio);
                }

                sum += ratio * ratio;
                probe += bk * Vector<T>.Zero;
            }

            var total = Vector.Sum(sum);
            var probeTotal = Vector.Sum(probe);
            for (; k < perRow; k++)
            {
                var scale = (T.Max(T.Abs(a[k]), T.Abs(b[k])) * rtol) + atol;
                var ratio = tolerances.PureRelative && e[k] == T.Zero ? T.Zero : e[k] / scale;
                total += ratio * ratio;
                probeTotal += b[k] * T.Zero;
            }

            // probe is NaN exactly when some element of y1 is not finite (∞·0 and NaN·0 are NaN).
            var norm = double.CreateTruncating(T.Sqrt(total / T.CreateTruncating(perRow)));
            norms[row] = norm;
            finite[row] = probeTotal == T.Zero && double.IsFinite(norm);
        }
    }

    /// <summary>Whether every element of each row is finite.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="x">The elements, <c>W·D</c>.</param>
    /// <param name="finite">Receives each row's flag, <c>[W]</c>.</param>
    public static void RowsFinite<T>(ReadOnlySpan<T> x, Span<bool> finite)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var width = finite.Length;
        var perRow = x.Length / Math.Max(width, 1);
        var lanes = Vector<T>.Count;
        for (var row = 0; row < width; row++)
        {
            // x·0 is ±0 for a finite x and NaN otherwise, so the sum is 0 exactly when every element is finite.
            var values = x.Slice(row * perRow, perRow);
            var probe = Vector<T>.Zero;
            var k = 0;
            for (; k + lanes <= perRow; k += lanes)
            {
                probe += new Vector<T>(values.Slice(k, lanes)) * Vector<T>.Zero;
            }

            var total = Vector.Sum(probe);
            for (; k < perRow; k++)
            {
                total += values[k] * T.Zero;
            }

            finite[row] = total == T.Zero;
        }
    }
}
