using static TorchSharp.torch;

namespace NeuralOde.Solving;

/// <summary>
/// The times of one solve, checked on the CPU and laid out per row: each row's span (float64 <c>[B]</c> on the
/// state's device) and its output times (float64 <c>[B, T]</c>, or null), plus the times to report back in
/// <see cref="OdeSolution.Ts"/>.
/// </summary>
internal sealed class SolveTimes
{
    private SolveTimes(Tensor t0, Tensor t1, double[] spans, Tensor? outputs, Tensor? requested)
    {
        T0 = t0;
        T1 = t1;
        Spans = spans;
        Outputs = outputs;
        Requested = requested;
    }

    /// <summary>Gets each row's start time, <c>[B]</c> float64.</summary>
    public Tensor T0 { get; }

    /// <summary>Gets each row's end time, <c>[B]</c> float64.</summary>
    public Tensor T1 { get; }

    /// <summary>Gets each row's span magnitude |t1 − t0|, on the CPU.</summary>
    public double[] Spans { get; }

    /// <summary>Gets each row's output times, <c>[B, T]</c> float64, clamped into the row's span; or null.</summary>
    public Tensor? Outputs { get; }

    /// <summary>Gets the times as the caller gave them (<see cref="OdeSolution.Ts"/>), or null.</summary>
    public Tensor? Requested { get; }

    /// <summary>One span shared by every row.</summary>
    /// <param name="y0">The initial states, <c>[B, ...]</c>.</param>
    /// <param name="t0">The start time.</param>
    /// <param name="t1">The end time.</param>
    /// <param name="outputTimes">Output times <c>[T]</c> or <c>[B, T]</c>, or null.</param>
    /// <returns>The times.</returns>
    public static SolveTimes Scalar(Tensor y0, double t0, double t1, Tensor? outputTimes)
    {
        if (!double.IsFinite(t0) || !double.IsFinite(t1))
        {
            throw new ArgumentException($"t0 and t1 must be finite; got t0 = {t0}, t1 = {t1}.");
        }

        var rows = y0.shape[0];
        var starts = Enumerable.Repeat(t0, (int)rows).ToArray();
        var ends = Enumerable.Repeat(t1, (int)rows).ToArray();
        return PerRow(y0, starts, ends, outputTimes);
    }

    /// <summary>A span per row.</summary>
    /// <param name="y0">The initial states, <c>[B, ...]</c>.</param>
    /// <param name="t0">Each row's start time, <c>[B]</c>.</param>
    /// <param name="t1">Each row's end time, <c>[B]</c>.</param>
    /// <param name="outputTimes">Output times <c>[T]</c> or <c>[B, T]</c>, or null.</param>
    /// <returns>The times.</returns>
    public static SolveTimes Rows(Tensor y0, Tensor t0, Tensor t1, Tensor? outputTimes)
    {
        var starts = RowTimes(y0, t0, nameof(t0));
        var ends = RowTimes(y0, t1, nameof(t1));
        return PerRow(y0, starts, ends, outputTimes);
    }

    /// <summary>A time grid whose first and last times are each row's span.</summary>
    /// <param name="y0">The initial states, <c>[B, ...]</c>.</param>
    /// <param name="ts">The grid, <c>[T]</c> or <c>[B, T]</c>, T ≥ 2, strictly monotone per row.</param>
    /// <param name="outputTimes">The options' output times, which must be null: the grid is the output times.</param>
    /// <returns>The times.</returns>
    public static SolveTimes Grid(Tensor y0, Tensor ts, Tensor? outputTimes)
    {
        if (outputTimes is not null)
        {
            throw new ArgumentException("Give either a time grid ts or SolverOptions.OutputTimes, not both: the grid's times are the output times.", "options");
        }

        var grid = TimeGrid.Read(ts, y0, nameof(ts));
        return Create(y0, grid.Column(0), grid.Column(grid.Count - 1), grid.ToTensor(y0.device), ts);
    }

    private static SolveTimes PerRow(Tensor y0, double[] starts, double[] ends, Tensor? outputTimes)
    {
        if (outputTimes is null)
        {
            return Create(y0, starts, ends, null, null);
        }

        var (values, perRow, count) = ReadTimes(y0, outputTimes, "OutputTimes");
        if (count < 1)
        {
            throw new ArgumentException("OutputTimes must hold at least one time.", "options");
        }

        var rows = y0.shape[0];
        for (long r = 0; r < rows; r++)
        {
            var t0 = starts[r];
            var t1 = ends[r];
            var direction = t1 >= t0 ? 1.0 : -1.0;

            // Times a rounding error outside the span are taken as its end (and written there); any further out is an error.
            var slack = 1e-12 * Math.Max(1.0, Math.Max(Math.Abs(t0), Math.Abs(t1)));
            var offset = perRow ? r * count : 0;
            for (long j = 0; j < count; j++)
            {
                var tau = values[offset + j];
                if ((tau - t0) * direction < -slack || (t1 - tau) * direction < -slack)
                {
                    throw new ArgumentException($"OutputTimes: time {tau} (row {r}, index {j}) is not inside [{t0}, {t1}].", "options");
                }

                if (j > 0 && (tau - values[offset + j - 1]) * direction < 0)
                {
                    throw new ArgumentException($"OutputTimes must be monotone from t0 to t1; index {j} of row {r} goes back.", "options");
                }
            }
        }

        // Clamp per row into [min(t0, t1), max(t0, t1)].
        Tensor clamped;
        using (var scope = NewDisposeScope())
        {
            var expanded = Expand(y0, values, perRow, count);
            var low = tensor(starts.Zip(ends, Math.Min).ToArray(), dtype: ScalarType.Float64, device: y0.device).unsqueeze(1);
            var high = tensor(starts.Zip(ends, Math.Max).ToArray(), dtype: ScalarType.Float64, device: y0.device).unsqueeze(1);
            clamped = expanded.maximum(low).minimum(high).MoveToOuterDisposeScope();
        }

        return Create(y0, starts, ends, clamped, outputTimes);
    }

    private static SolveTimes Create(Tensor y0, double[] starts, double[] ends, Tensor? outputs, Tensor? requested)
    {
        var t0 = tensor(starts, dtype: ScalarType.Float64, device: y0.device);
        var t1 = tensor(ends, dtype: ScalarType.Float64, device: y0.device);
        var spans = starts.Zip(ends, static (a, b) => Math.Abs(b - a)).ToArray();
        return new SolveTimes(t0, t1, spans, outputs, requested);
    }

    // The [B, T] float64 copy of times given as [T] or [B, T].
    private static Tensor Expand(Tensor y0, double[] values, bool perRow, long count)
    {
        var rows = y0.shape[0];
        using var scope = NewDisposeScope();
        var grid = tensor(values, dtype: ScalarType.Float64, device: y0.device);
        var result = perRow ? grid.reshape(rows, count) : grid.unsqueeze(0).expand(rows, count).contiguous();
        return result.MoveToOuterDisposeScope();
    }

    // Checks a [T] or [B, T] time tensor and copies it to the CPU as float64.
    private static (double[] Values, bool PerRow, long Count) ReadTimes(Tensor y0, Tensor times, string name)
    {
        var rows = y0.shape[0];
        var paramName = name == "OutputTimes" ? "options" : name;
        if (times.IsInvalid)
        {
            throw new ArgumentException($"{name} has been disposed.", paramName);
        }

        if (!times.is_floating_point())
        {
            throw new ArgumentException($"{name} must be floating point; got {times.dtype}.", paramName);
        }

        if (!Ode.SameDevice(times, y0))
        {
            throw new ArgumentException($"{name} is on {times.device} but y0 is on {y0.device}.", paramName);
        }

        var perRow = times.dim() switch
        {
            1 => false,
            2 when times.shape[0] == rows => true,
            _ => throw new ArgumentException(
                $"{name} must have shape [T] or [B, T] = [{rows}, T]; got [{string.Join(", ", times.shape)}].", paramName),
        };

        using var scope = NewDisposeScope();
        var values = times.detach().cpu().to_type(ScalarType.Float64).contiguous().data<double>().ToArray();
        var count = times.shape[^1];
        for (var i = 0; i < values.Length; i++)
        {
            if (!double.IsFinite(values[i]))
            {
                throw new ArgumentException($"{name} must be finite; row {(perRow ? i / count : 0)}, index {i % Math.Max(count, 1)} is {values[i]}.", paramName);
            }
        }

        return (values, perRow, count);
    }

    // Checks a [B] time tensor and copies it to the CPU as float64.
    private static double[] RowTimes(Tensor y0, Tensor times, string name)
    {
        ArgumentNullException.ThrowIfNull(times, name);
        var rows = y0.shape[0];
        if (times.IsInvalid)
        {
            throw new ArgumentException($"{name} has been disposed.", name);
        }

        if (times.dim() != 1 || times.shape[0] != rows)
        {
            throw new ArgumentException($"{name} must have shape [B] = [{rows}]; got [{string.Join(", ", times.shape)}].", name);
        }

        if (!times.is_floating_point())
        {
            throw new ArgumentException($"{name} must be floating point; got {times.dtype}.", name);
        }

        if (!Ode.SameDevice(times, y0))
        {
            throw new ArgumentException($"{name} is on {times.device} but y0 is on {y0.device}.", name);
        }

        using var scope = NewDisposeScope();
        var values = times.detach().cpu().to_type(ScalarType.Float64).contiguous().data<double>().ToArray();
        for (var r = 0; r < values.Length; r++)
        {
            if (!double.IsFinite(values[r]))
            {
                throw new ArgumentException($"{name} must be finite; row {r} is {values[r]}.", name);
            }
        }

        return values;
    }
}
