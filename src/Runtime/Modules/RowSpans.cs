using NeuralOde.Solving;
using NeuralOde.Stepping;
using static TorchSharp.torch;

namespace NeuralOde.Modules;

/// <summary>
/// Per-row spans <c>[a_b, e_b]</c> solved on one shared clock: row b's time is <c>t = a_b + s·(e_b − a_b)</c> for
/// <c>s</c> in [0, 1], and its dynamics become <c>dy/ds = (e_b − a_b)·f(t, y)</c>. A Runge–Kutta step of size
/// <c>ds</c> on these dynamics is exactly a step of size <c>(e_b − a_b)·ds</c> on <c>f</c>, so every row keeps its
/// own span, direction and steps; a zero-length row does not move.
/// </summary>
/// <remarks>
/// The bridge until <c>Ode.Solve</c> takes per-row <c>[B]</c> spans itself; then callers solve over the spans directly.
/// Step-size options (<c>Dt</c>, <c>DtMin</c>, <c>DtMax</c>, <c>InitialStep</c>) are given in time units and are
/// divided by the longest span, so that no row's step in time exceeds them.
/// </remarks>
internal sealed class RowSpans : IDisposable
{
    private readonly Tensor start;   // [B] float64
    private readonly Tensor length;  // [B] float64
    private readonly double longest;

    private RowSpans(Tensor start, Tensor length, double longest)
    {
        this.start = start;
        this.length = length;
        this.longest = longest;
    }

    /// <summary>Gets whether every row has zero length (nothing to solve).</summary>
    public bool Empty => longest == 0;

    /// <summary>Creates the spans.</summary>
    /// <param name="from">Each row's start, <c>[B]</c>.</param>
    /// <param name="to">Each row's end, <c>[B]</c>.</param>
    /// <param name="device">The states' device.</param>
    /// <returns>The spans; dispose them after the solve.</returns>
    public static RowSpans Create(double[] from, double[] to, Device device)
    {
        var lengths = from.Zip(to, static (a, e) => e - a).ToArray();
        var longest = lengths.Max(static d => Math.Abs(d));
        return new RowSpans(
            tensor(from, dtype: ScalarType.Float64, device: device).DetachFromDisposeScope(),
            tensor(lengths, dtype: ScalarType.Float64, device: device).DetachFromDisposeScope(),
            longest);
    }

    /// <summary>Maps times of the rows, <c>[B, T]</c>, to the shared clock <c>s</c> (0 at each start, 1 at each end).</summary>
    /// <param name="grid">The times; every row's first and last are its span.</param>
    /// <returns><c>[B, T]</c> float64 values of <c>s</c>, exactly 0 and 1 at the ends.</returns>
    public static double[] Normalize(TimeGrid grid)
    {
        var last = grid.Count - 1;
        var s = new double[grid.Rows * grid.Count];
        for (long r = 0; r < grid.Rows; r++)
        {
            var a = grid.At(r, 0);
            var d = grid.At(r, last) - a;
            for (var j = 0; j < grid.Count; j++)
            {
                s[(r * grid.Count) + j] = j == 0 ? 0.0 : j == last ? 1.0 : (grid.At(r, j) - a) / d;
            }
        }

        return s;
    }

    /// <summary>Wraps dynamics on the rows' clocks as dynamics on the shared clock.</summary>
    /// <param name="f">The dynamics: <c>t</c> <c>[B']</c>, <c>y</c> <c>[B', ...]</c>, rows <c>[B']</c> to dy/dt.</param>
    /// <returns><c>(s [B'], y, rows) → (e − a)·f(a + s·(e − a), y, rows)</c>.</returns>
    public Func<Tensor, Tensor, Tensor, Tensor> Wrap(Func<Tensor, Tensor, Tensor, Tensor> f) => (s, y, rows) =>
    {
        var a = start.index_select(0, rows);
        var d = length.index_select(0, rows);
        var t = s.to(ScalarType.Float64).mul(d).add_(a).to(y.dtype);
        var slope = f(t, y, rows);
        return slope.mul(StepKernels.PerRow(d.to(slope.dtype), slope));
    };

    /// <summary>Converts step-size options from time units to the shared clock.</summary>
    /// <param name="options">The options in time units.</param>
    /// <returns>The options for the shared clock, without output times.</returns>
    public SolverOptions Convert(SolverOptions options)
    {
        var scale = 1.0 / longest;
        return options with
        {
            Dt = options.Dt * scale,
            DtMin = options.DtMin * scale,
            DtMax = options.DtMax * scale,
            InitialStep = options.InitialStep * scale,
            OutputTimes = null,
        };
    }

    /// <summary>Disposes the spans' tensors.</summary>
    public void Dispose()
    {
        start.Dispose();
        length.Dispose();
    }
}
