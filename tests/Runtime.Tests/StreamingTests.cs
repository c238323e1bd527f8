using NeuralOde.Solving;
using NeuralOde.Tableaux;
using static TorchSharp.torch;

namespace NeuralOde.Tests;

/// <summary>
/// Continuous batching: batches stream through a work set of at most MaxRowsInFlight rows, refilled as rows finish;
/// every batch's solution equals that batch solved alone.
/// </summary>
[Collection("Torch")]
public sealed class StreamingTests
{
    // Harmonic oscillators x'' = −ω²x with a frequency per row (rows numbered across the stream), so that rows need
    // different numbers of steps; row 7 starts from NaN.
    private static (List<Tensor> Batches, Tensor Omega) Oscillators(int[] sizes, ScalarType dtype)
    {
        var total = sizes.Sum();
        var omega = rand(total, dtype: dtype, generator: new TorchSharp.torch.Generator(11)).mul_(20).add_(0.5);
        var all = randn(total, 2, dtype: dtype, generator: new TorchSharp.torch.Generator(12));
        all[7, 0] = double.NaN;
        var batches = new List<Tensor>();
        var offset = 0;
        foreach (var size in sizes)
        {
            batches.Add(all.narrow(0, offset, size));
            offset += size;
        }

        return (batches, omega);
    }

    private static Func<Tensor, Tensor, Tensor, Tensor> Dynamics(Tensor omega, long offset = 0, List<long>? widths = null) => (t, y, rows) =>
    {
        widths?.Add(y.shape[0]);
        var w2 = omega.index_select(0, rows.add(offset)).square();
        return stack([y.select(1, 1), y.select(1, 0).mul(w2).neg()], 1);
    };

    [Theory]
    [InlineData("DOPRI5", ScalarType.Float32, false)]
    [InlineData("RKF45", ScalarType.Float64, false)]
    [InlineData("Tsit5", ScalarType.Float32, true)]
    public void EveryBatch_EqualsTheBatchSolvedAlone(string scheme, ScalarType dtype, bool fixedSteps)
    {
        using var scope = NewDisposeScope();
        int[] sizes = [37, 64, 5, 100, 13];
        var (batches, omega) = Oscillators(sizes, dtype);
        var options = fixedSteps ? new SolverOptions { Steps = 50 } : SolverOptions.Adaptive(1e-6, 1e-8);
        var streamed = Ode.SolveStream(scheme, Dynamics(omega), batches, 0.0, 3.0, options with { MaxRowsInFlight = 32 }).ToList();
        Assert.Equal(sizes.Length, streamed.Count);
        long offset = 0;
        for (var b = 0; b < sizes.Length; b++)
        {
            using var alone = Ode.Solve(scheme, Dynamics(omega, offset), batches[b], 0.0, 3.0, options);
            var solution = streamed[b];
            Assert.Equal(alone.Statuses, solution.Statuses);
            Assert.True(alone.Y.isnan().eq(solution.Y.isnan()).all().item<bool>());
            Assert.True(alone.Y.nan_to_num().eq(solution.Y.nan_to_num()).all().item<bool>(), $"batch {b}: states differ");
            Assert.True(alone.T.eq(solution.T).all().item<bool>());
            Assert.True(alone.Stats.FunctionEvaluations.eq(solution.Stats.FunctionEvaluations).all().item<bool>());
            Assert.True(alone.Stats.AcceptedSteps.eq(solution.Stats.AcceptedSteps).all().item<bool>());
            Assert.True(alone.Stats.RejectedSteps.eq(solution.Stats.RejectedSteps).all().item<bool>());
            if (b == 0)
            {
                Assert.Equal(SolverStatus.NonFinite, solution.Statuses[7]);
            }

            offset += sizes[b];
            solution.Dispose();
        }
    }

    [Fact]
    public void TheWorkSet_StaysFull_WhileRowsOfDifferentLengthsFinish()
    {
        using var scope = NewDisposeScope();
        int[] sizes = [200, 200, 200, 200, 200];
        var (batches, omega) = Oscillators(sizes, ScalarType.Float32);
        var widths = new List<long>();
        var solutions = Ode.SolveStream("DOPRI5", Dynamics(omega, widths: widths), batches, 0.0, 3.0, SolverOptions.Adaptive(1e-6, 1e-8) with { MaxRowsInFlight = 64 }).ToList();
        Assert.All(solutions, s => Assert.Equal(200, s.Y.shape[0]));
        Assert.True(widths.Max() <= 64, $"a call saw {widths.Max()} rows");

        // Rows need from about 30 to 1,000 steps (ω from 0.5 to 20.5); while rows are pending, finished rows are
        // replaced, so the calls stay near the limit until the last rows run out.
        var steps = solutions.SelectMany(s => s.Stats.AcceptedSteps.data<long>().ToArray()).ToArray();
        Assert.True(steps.Max() > 5 * steps.Min(), $"steps {steps.Min()}…{steps.Max()}");
        var firstHalf = widths.Take(widths.Count / 2).Average();
        Assert.True(firstHalf >= 0.85 * 64, $"mean rows per call over the first half of the stream: {firstHalf:F1}");
        foreach (var solution in solutions)
        {
            solution.Dispose();
        }
    }

    [Fact]
    public void Autograd_IsOnBetweenBatches_AndOffInside()
    {
        using var scope = NewDisposeScope();
        var (batches, omega) = Oscillators([10, 10, 10], ScalarType.Float64);
        var insideGrad = new List<bool>();
        var dynamics = Dynamics(omega);
        Tensor Watching(Tensor t, Tensor y, Tensor rows)
        {
            insideGrad.Add(is_grad_enabled());
            return dynamics(t, y, rows);
        }

        foreach (var solution in Ode.SolveStream("DOPRI5", Watching, batches, 0.0, 1.0, new SolverOptions { MaxRowsInFlight = 8 }))
        {
            Assert.True(is_grad_enabled());
            solution.Dispose();
        }

        Assert.DoesNotContain(true, insideGrad);
    }

    [Fact]
    public void BadInputs_GiveOneSentence()
    {
        using var scope = NewDisposeScope();
        var (batches, omega) = Oscillators([4, 4], ScalarType.Float32);
        var f = Dynamics(omega);
        var error = Assert.Throws<ArgumentException>(() => Ode.SolveStream("DOPRI5", f, [batches[0], batches[1].to_type(ScalarType.Float64)], 0.0, 1.0).ToList());
        Assert.Contains("Every batch of the stream must be [B ≥ 1, 2] Float32", error.Message);
        Assert.Throws<ArgumentException>(() => Ode.SolveStream("DOPRI5", f, [batches[0], batches[1].unsqueeze(2)], 0.0, 1.0).ToList());
        Assert.Contains("OutputTimes", Assert.Throws<ArgumentException>(() => Ode.SolveStream("DOPRI5", f, batches, 0.0, 1.0, new SolverOptions { OutputTimes = tensor(new[] { 0.5 }) })).Message);
        Assert.Contains("at least 1", Assert.Throws<ArgumentException>(() => Ode.SolveStream("DOPRI5", f, batches, 0.0, 1.0, new SolverOptions { MaxRowsInFlight = 0 }).ToList()).Message);
        Assert.Contains("Ode.SolveStream", Assert.Throws<ArgumentException>(() => Ode.Solve("DOPRI5", f, batches[0], 0.0, 1.0, new SolverOptions { MaxRowsInFlight = 2 })).Message);
        Assert.Contains("finite", Assert.Throws<ArgumentException>(() => Ode.SolveStream("DOPRI5", f, batches, 0.0, double.NaN)).Message);
        Assert.Empty(Ode.SolveStream("DOPRI5", f, [], 0.0, 1.0));
    }
}
