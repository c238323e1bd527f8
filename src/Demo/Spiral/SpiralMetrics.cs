namespace NeuralOde.Demo.Spiral;

/// <summary>The spiral run's <c>spiral.json</c>: its options and what it measured.</summary>
/// <param name="Options">The options.</param>
/// <param name="IterationsRun">The iterations run (fewer than asked when interrupted).</param>
/// <param name="FinalLoss">The loss over the whole trajectory at the end.</param>
/// <param name="SecondsPerIteration">The mean time of iterations 2…N, evaluations excluded.</param>
/// <param name="CpuSecondsPerIteration">The same in the thread's CPU time.</param>
/// <param name="ForwardCallsPerIteration">The mean calls of the dynamics per forward solve.</param>
/// <param name="BackwardCallsPerIteration">The mean calls of the dynamics per backward pass.</param>
/// <param name="TrainLoss">The batch loss of every iteration.</param>
/// <param name="TotalLoss">The loss over the whole trajectory, as [iteration, loss] pairs.</param>
/// <param name="Interrupted">Whether the run stopped early.</param>
internal sealed record SpiralMetrics(
    SpiralOptions Options,
    int IterationsRun,
    double FinalLoss,
    double SecondsPerIteration,
    double CpuSecondsPerIteration,
    double ForwardCallsPerIteration,
    double BackwardCallsPerIteration,
    IReadOnlyList<double> TrainLoss,
    IReadOnlyList<double[]> TotalLoss,
    bool Interrupted)
{
    /// <summary>Builds the metrics of a run.</summary>
    /// <param name="options">The options.</param>
    /// <param name="result">The result.</param>
    /// <returns>The metrics.</returns>
    public static SpiralMetrics From(SpiralOptions options, SpiralResult result) => new(
        options,
        result.TrainLoss.Count,
        result.FinalLoss,
        result.SecondsPerIteration,
        result.CpuSecondsPerIteration,
        result.ForwardCalls,
        result.BackwardCalls,
        result.TrainLoss,
        [.. result.TotalLoss.Select(static l => new double[] { l.Iteration, l.Loss })],
        result.Interrupted);
}
