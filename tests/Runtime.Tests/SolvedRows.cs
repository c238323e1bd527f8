using NeuralOde.Solving;
using static TorchSharp.torch;

namespace NeuralOde.Tests;

/// <summary>A solution's per-row results copied to the CPU as float64 (exact for float32 too), for bit-for-bit comparisons.</summary>
internal sealed record SolvedRows(double[] Y, double[] T, SolverStatus[] Status, long[] Accepted, long[] Rejected, long[] Evaluations, int Width)
{
    public static SolvedRows Of(OdeSolution solution, int width)
    {
        using var scope = NewDisposeScope();
        return new(
            solution.Y.to(ScalarType.Float64).cpu().contiguous().data<double>().ToArray(),
            solution.T.to(ScalarType.Float64).cpu().data<double>().ToArray(),
            solution.Statuses,
            solution.Stats.AcceptedSteps.cpu().data<long>().ToArray(),
            solution.Stats.RejectedSteps.cpu().data<long>().ToArray(),
            solution.Stats.FunctionEvaluations.cpu().data<long>().ToArray(),
            width);
    }

    public double[] Row(int row) => Y[(row * Width)..((row + 1) * Width)];

    /// <summary>Asserts that row <paramref name="a"/> of <paramref name="left"/> and row <paramref name="b"/> of
    /// <paramref name="right"/> have the same state and time to the last bit, the same status and the same steps.</summary>
    public static void AssertSame(SolvedRows left, int a, SolvedRows right, int b, string what)
    {
        Assert.True(left.Status[a] == right.Status[b], $"{what}: row {a} status {left.Status[a]} vs {right.Status[b]}");
        Assert.True(left.Accepted[a] == right.Accepted[b] && left.Rejected[a] == right.Rejected[b], $"{what}: row {a} steps {left.Accepted[a]}+{left.Rejected[a]} vs {right.Accepted[b]}+{right.Rejected[b]}");
        Assert.True(BitConverter.DoubleToInt64Bits(left.T[a]) == BitConverter.DoubleToInt64Bits(right.T[b]), $"{what}: row {a} t {left.T[a]:R} vs {right.T[b]:R}");
        var x = left.Row(a);
        var y = right.Row(b);
        for (var i = 0; i < x.Length; i++)
        {
            Assert.True(BitConverter.DoubleToInt64Bits(x[i]) == BitConverter.DoubleToInt64Bits(y[i]), $"{what}: row {a} y[{i}] {x[i]:R} vs {y[i]:R} (differ by {x[i] - y[i]:E2})");
        }
    }
}
