using static TorchSharp.torch;

namespace NeuralOde.Demo.Bench;

/// <summary>
/// The shared problem <c>spiral_d2_h64_b256</c> (PROBLEMS.md: <c>f = tanh(y·W1ᵀ + b1)·W2ᵀ + b2</c>, D = 2, H = 64)
/// with its 256 initial states repeated to B rows: row i starts at <c>y0[i mod 256]</c>, and its reference is
/// <c>ref_yT[i mod 256]</c> at the problem's t1 (rows are independent, so a per-row solve of row i takes the steps of
/// row i mod 256 alone). Its memory includes the network's hidden activations, <c>[n, 64]</c> per evaluation.
/// </summary>
internal sealed class TiledSpiral : IMemoryProblem
{
    /// <summary>The shared problem this repeats.</summary>
    public const string ProblemName = "spiral_d2_h64_b256";

    private readonly Tensor w1;
    private readonly Tensor b1;
    private readonly Tensor w2;
    private readonly Tensor b2;
    private readonly Tensor referenceRows;
    private readonly Tensor referenceStates;

    /// <summary>Builds <paramref name="rows"/> rows from the problem's files.</summary>
    /// <param name="data">The benchmark folder.</param>
    /// <param name="rows">The batch size B, at least 1.</param>
    /// <param name="dtype">The dtype to compute in.</param>
    public TiledSpiral(string data, long rows, ScalarType dtype)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        using var problem = BenchData.LoadProblem(data, ProblemName);
        using var scope = NewDisposeScope();
        T1 = problem.Header.T1;
        w1 = problem["W1"].to(dtype).clone().DetachFromDisposeScope();
        b1 = problem["b1"].to(dtype).clone().DetachFromDisposeScope();
        w2 = problem["W2"].to(dtype).clone().DetachFromDisposeScope();
        b2 = problem["b2"].to(dtype).clone().DetachFromDisposeScope();
        var source = arange(rows, dtype: ScalarType.Int64).remainder_(problem["y0"].shape[0]);
        Y0 = problem["y0"].to(dtype).index_select(0, source).DetachFromDisposeScope();
        referenceRows = source.DetachFromDisposeScope();
        referenceStates = problem["ref_yT"].to(ScalarType.Float64).clone().DetachFromDisposeScope();
    }

    /// <summary>Gets the problem's end time, the only one its reference is for.</summary>
    public double T1 { get; }

    /// <summary>Gets the initial states, <c>[B, 2]</c>.</summary>
    public Tensor Y0 { get; }

    /// <summary>Evaluates dy/dt.</summary>
    /// <param name="t">Each row's time, <c>[n]</c> (unused: the network is autonomous).</param>
    /// <param name="y">The rows' states, <c>[n, 2]</c>.</param>
    /// <param name="rows">The rows' indices in the batch, <c>[n]</c> (unused: every row has the same network).</param>
    /// <returns>dy/dt, <c>[n, 2]</c>.</returns>
    public Tensor F(Tensor t, Tensor y, Tensor rows) =>
        nn.functional.linear(nn.functional.linear(y, w1, b1).tanh_(), w2, b2);

    /// <summary>The reference of a range of rows at the problem's t1: <c>ref_yT[i mod 256]</c> for row i.</summary>
    /// <param name="t1">The end time; it must be the problem's.</param>
    /// <param name="start">The first row.</param>
    /// <param name="length">The number of rows.</param>
    /// <returns>The reference, <c>[length, 2]</c> float64.</returns>
    /// <exception cref="ArgumentException"><paramref name="t1"/> is not the problem's end time.</exception>
    public Tensor Reference(double t1, long start, long length)
    {
        if (t1 != T1)
        {
            throw new ArgumentException($"The {ProblemName} reference is at t1 = {T1}, not {t1}.", nameof(t1));
        }

        return referenceStates.index_select(0, referenceRows.narrow(0, start, length));
    }

    /// <summary>Disposes the tensors.</summary>
    public void Dispose()
    {
        w1.Dispose();
        b1.Dispose();
        w2.Dispose();
        b2.Dispose();
        Y0.Dispose();
        referenceRows.Dispose();
        referenceStates.Dispose();
    }
}
