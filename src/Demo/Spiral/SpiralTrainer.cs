using System.Diagnostics;
using NeuralOde.Demo.Bench;
using NeuralOde.Modules;
using NeuralOde.Solving;
using TorchSharp;
using static TorchSharp.torch;

namespace NeuralOde.Demo.Spiral;

/// <summary>Receives the spiral training's progress.</summary>
/// <param name="iteration">The iteration just done (1-based).</param>
/// <param name="loss">Its batch loss.</param>
/// <param name="totalLoss">The loss over the whole trajectory when it was evaluated at this iteration, else null.</param>
internal delegate void SpiralProgress(int iteration, double loss, double? totalLoss);

/// <summary>
/// torchdiffeq's <c>examples/ode_demo.py</c> on NeuralOde: fit <see cref="SpiralDynamics"/> to windows of the true
/// spiral with <see cref="OdeBlock.Trajectory"/>, then evaluate it on the whole trajectory.
/// </summary>
internal static class SpiralTrainer
{
    private const int FieldPoints = 21;

    /// <summary>Trains and evaluates.</summary>
    /// <param name="options">The options (checked).</param>
    /// <param name="progress">Called after every iteration.</param>
    /// <param name="cancellationToken">Stops between iterations (the result then covers the iterations run).</param>
    /// <returns>The losses, timings, trajectories and the learned vector field.</returns>
    public static SpiralResult Run(SpiralOptions options, SpiralProgress? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        using var scope = NewDisposeScope();
        torch.random.manual_seed(options.Seed);
        var random = new Random(options.Seed);

        var t = linspace(0.0, options.Duration, options.DataSize, dtype: ScalarType.Float32);
        var trueY = TrueSpiral.Sample(t);                            // [N, 2]
        var trueY0 = trueY[..1];                                      // [1, 2]

        var dynamics = new SpiralDynamics();
        // One step size for the batch unless asked otherwise: ode_demo's torchdiffeq steps its batch of windows so.
        var solver = SolverOptions.Adaptive(options.RelativeTolerance, options.AbsoluteTolerance) with { SharedStepSize = !options.PerRowSteps };
        var block = new OdeBlock(dynamics, Schemes.Get(options.Scheme), solver, gradientMode: options.Gradient);
        var optimizer = optim.Adam(block.parameters(), options.LearningRate);

        var trainLoss = new List<double>();
        var totalLoss = new List<(int, double)>();
        var clock = new Stopwatch();
        var cpuMs = 0.0;
        double forwardCalls = 0, backwardCalls = 0;
        var interrupted = false;

        // The untrained model's loss, the curve's first point.
        totalLoss.Add((0, TotalLoss(block, trueY0, t, trueY)));
        for (var iteration = 1; iteration <= options.Iterations; iteration++)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                interrupted = true;
                break;
            }

            clock.Start();
            var cpuStart = ThreadClock.NowMs();
            double loss;
            using (var step = NewDisposeScope())
            {
                optimizer.zero_grad();
                var (y0, ts, target) = Batch(options, random, t, trueY);
                var prediction = block.Trajectory(y0, ts);                // [B, T, 2]
                var batchLoss = prediction.sub(target).abs().mean();
                batchLoss.backward();
                optimizer.step();
                loss = batchLoss.item<float>();
            }

            clock.Stop();
            cpuMs += ThreadClock.NowMs() - cpuStart;
            if (iteration == 1)
            {
                // The first iteration warms up libtorch and the JIT: not timed.
                clock.Reset();
                cpuMs = 0;
            }

            forwardCalls += block.LastForward.Calls;
            backwardCalls += block.LastBackward.Calls;
            trainLoss.Add(loss);
            double? total = null;
            if (iteration % options.TestEvery == 0 || iteration == options.Iterations)
            {
                total = TotalLoss(block, trueY0, t, trueY);
                totalLoss.Add((iteration, total.Value));
            }

            progress?.Invoke(iteration, loss, total);
        }

        var runs = trainLoss.Count;
        var learned = Learned(block, trueY0, t);
        var final = totalLoss[^1].Item1 == runs ? totalLoss[^1].Item2 : TotalLoss(block, trueY0, t, trueY);
        return new SpiralResult(
            trainLoss,
            totalLoss,
            final,
            runs > 1 ? clock.Elapsed.TotalSeconds / (runs - 1) : double.NaN,
            runs > 1 ? cpuMs / 1e3 / (runs - 1) : double.NaN,
            runs == 0 ? 0 : forwardCalls / runs,
            runs == 0 ? 0 : backwardCalls / runs,
            [.. t.data<float>().ToArray().Select(static v => (double)v)],
            Pairs(trueY),
            Pairs(learned),
            Field(dynamics),
            interrupted);
    }

    // A batch: y0 [B, 2], times [T] (regular: the first T points, shared) or [B, T] (irregular: each window's own
    // sorted times), targets [B, T, 2].
    private static (Tensor Y0, Tensor Times, Tensor Target) Batch(SpiralOptions options, Random random, Tensor t, Tensor trueY)
    {
        var b = options.BatchSize;
        var n = options.BatchTime;
        var window = options.Irregular ? 2 * n : n;

        // Distinct window starts, as ode_demo (np.random.choice without replacement).
        var starts = Enumerable.Range(0, options.DataSize - window).ToArray();
        random.Shuffle(starts);
        var indices = new long[b * n];
        for (var r = 0; r < b; r++)
        {
            var s = starts[r];
            if (!options.Irregular)
            {
                for (var j = 0; j < n; j++)
                {
                    indices[(r * n) + j] = s + j;
                }

                continue;
            }

            // The window's first point, then n − 1 distinct points among the next 2n − 1, in order.
            var later = Enumerable.Range(s + 1, window - 1).ToArray();
            random.Shuffle(later);
            var chosen = later.Take(n - 1).Order().ToArray();
            indices[r * n] = s;
            for (var j = 1; j < n; j++)
            {
                indices[(r * n) + j] = chosen[j - 1];
            }
        }

        var index = tensor(indices);
        var target = trueY.index_select(0, index).reshape(b, n, 2);
        var y0 = target.select(1, 0);
        var times = options.Irregular ? t.index_select(0, index).reshape(b, n) : t[..n];
        return (y0, times, target);
    }

    private static double TotalLoss(OdeBlock block, Tensor trueY0, Tensor t, Tensor trueY)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var prediction = block.Trajectory(trueY0, t).squeeze(0);    // [N, 2]
        return prediction.sub(trueY).abs().mean().item<float>();
    }

    private static Tensor Learned(OdeBlock block, Tensor trueY0, Tensor t)
    {
        using var noGrad = no_grad();
        return block.Trajectory(trueY0, t).squeeze(0);
    }

    private static (double X, double Y)[] Pairs(Tensor states)
    {
        var values = states.to(ScalarType.Float64).contiguous().data<double>().ToArray();
        return [.. Enumerable.Range(0, values.Length / 2).Select(i => (values[2 * i], values[(2 * i) + 1]))];
    }

    private static (double X, double Y, double U, double V)[] Field(SpiralDynamics dynamics)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var axis = linspace(-2.0, 2.0, FieldPoints, dtype: ScalarType.Float32);
        var grid = meshgrid([axis, axis], indexing: "xy");
        var points = stack([grid[0].flatten(), grid[1].flatten()], 1);           // [21², 2]
        var slopes = dynamics.call(zeros(points.shape[0]), points);
        var p = Pairs(points);
        var v = Pairs(slopes);
        return [.. p.Zip(v, static (a, b) => (a.X, a.Y, b.X, b.Y))];
    }
}
