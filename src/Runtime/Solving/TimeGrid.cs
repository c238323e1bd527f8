using System.Globalization;
using static TorchSharp.torch;

namespace NeuralOde.Solving;

/// <summary>
/// A checked time grid on the CPU: <c>[B, T]</c> float64 values, every row strictly monotone (its own direction),
/// so that the solves and the adjoint's segments can be planned without reading the device again.
/// </summary>
internal sealed class TimeGrid
{
    private readonly double[] values;

    private TimeGrid(double[] values, long rows, int count)
    {
        this.values = values;
        Rows = rows;
        Count = count;
    }

    /// <summary>Gets the number of rows B.</summary>
    public long Rows { get; }

    /// <summary>Gets the number of times T per row.</summary>
    public int Count { get; }

    /// <summary>Gets the time of row <paramref name="row"/> at index <paramref name="index"/>.</summary>
    /// <param name="row">The row.</param>
    /// <param name="index">The index in the row.</param>
    /// <returns>The time.</returns>
    public double At(long row, int index) => values[(row * Count) + index];

    /// <summary>Gets whether every row has the same time at <paramref name="index"/>.</summary>
    /// <param name="index">The index in the row.</param>
    /// <returns>Whether the column is one time.</returns>
    public bool ColumnShared(int index)
    {
        var first = At(0, index);
        for (long r = 1; r < Rows; r++)
        {
            if (At(r, index) != first)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Gets column <paramref name="index"/>, <c>[B]</c>.</summary>
    /// <param name="index">The index in the row.</param>
    /// <returns>A new array.</returns>
    public double[] Column(int index)
    {
        var column = new double[Rows];
        for (long r = 0; r < Rows; r++)
        {
            column[r] = At(r, index);
        }

        return column;
    }

    /// <summary>Gets the times, <c>[B, T]</c> row-major.</summary>
    /// <returns>A copy.</returns>
    public double[] ToArray() => (double[])values.Clone();

    /// <summary>Gets the grid as a tensor.</summary>
    /// <param name="device">The device.</param>
    /// <returns><c>[B, T]</c> float64.</returns>
    public Tensor ToTensor(Device device) => tensor(values, dtype: ScalarType.Float64, device: device).reshape(Rows, Count);

    /// <summary>Builds the grid of a shared list of times, monotone but not necessarily strictly (checked by the caller).</summary>
    /// <param name="times">The times, <c>[T]</c>.</param>
    /// <param name="rows">The number of rows B.</param>
    /// <returns>The grid, <c>[B, T]</c>.</returns>
    public static TimeGrid Shared(IReadOnlyList<double> times, long rows)
    {
        var count = times.Count;
        var values = new double[rows * count];
        for (long r = 0; r < rows; r++)
        {
            for (var j = 0; j < count; j++)
            {
                values[(r * count) + j] = times[j];
            }
        }

        return new TimeGrid(values, rows, count);
    }

    /// <summary>Checks a grid <c>[T]</c> or <c>[B, T]</c> against the states it is for and reads it.</summary>
    /// <param name="ts">The times: floating point, on <paramref name="y0"/>'s device, T ≥ 2, finite, strictly
    /// monotone in every row.</param>
    /// <param name="y0">The initial states, <c>[B, ...]</c> (already checked).</param>
    /// <param name="name">The argument's name in messages.</param>
    /// <returns>The grid, <c>[B, T]</c>.</returns>
    /// <exception cref="ArgumentException">The grid is invalid; the message says how, in one sentence.</exception>
    public static TimeGrid Read(Tensor ts, Tensor y0, string name)
    {
        ArgumentNullException.ThrowIfNull(ts, name);
        if (ts.IsInvalid)
        {
            throw new ArgumentException($"{name} has been disposed.", name);
        }

        if (!ts.is_floating_point())
        {
            throw new ArgumentException($"{name} must be floating point (float32 or float64); got {ts.dtype}.", name);
        }

        if (!Ode.SameDevice(ts, y0))
        {
            throw new ArgumentException($"{name} is on {ts.device} but y0 is on {y0.device}; move one with .to(device).", name);
        }

        var rows = y0.shape[0];
        var perRow = ts.dim() switch
        {
            1 => false,
            2 when ts.shape[0] == rows => true,
            _ => throw new ArgumentException(
                $"{name} must have shape [T] or [B, T] = [{rows}, T] to match y0; got [{string.Join(", ", ts.shape)}].", name),
        };

        var count = ts.shape[^1];
        if (count < 2)
        {
            throw new ArgumentException($"{name} must hold at least two times (the first is y0's, the last the end); got {count}.", name);
        }

        if (count > int.MaxValue)
        {
            throw new ArgumentException($"{name} holds {count} times per row, more than this library supports.", name);
        }

        double[] read;
        using (NewDisposeScope())
        {
            read = ts.detach().cpu().to(ScalarType.Float64).contiguous().data<double>().ToArray();
        }

        var grid = perRow ? new TimeGrid(read, rows, (int)count) : Shared(read, rows);
        for (long r = 0; r < (perRow ? rows : 1); r++)
        {
            var direction = 0.0;
            for (var j = 0; j < count; j++)
            {
                var tau = grid.At(r, j);
                if (!double.IsFinite(tau))
                {
                    throw new ArgumentException($"{name} must be finite; {Where(perRow, r, j)} is {tau.ToString(CultureInfo.InvariantCulture)}.", name);
                }

                if (j == 0)
                {
                    continue;
                }

                var step = tau - grid.At(r, j - 1);
                if (j == 1)
                {
                    direction = Math.Sign(step);
                }

                if (step == 0 || Math.Sign(step) != direction)
                {
                    throw new ArgumentException(
                        $"{name} must be strictly increasing or strictly decreasing in every row; {Where(perRow, r, j)} ({tau.ToString(CultureInfo.InvariantCulture)}) " +
                        $"does not continue from {grid.At(r, j - 1).ToString(CultureInfo.InvariantCulture)}.",
                        name);
                }
            }
        }

        return grid;
    }

    private static string Where(bool perRow, long row, int index) =>
        perRow ? $"row {row}, index {index}" : $"index {index}";
}
