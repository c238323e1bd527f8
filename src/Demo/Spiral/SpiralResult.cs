namespace NeuralOde.Demo.Spiral;

/// <summary>What a spiral training produced.</summary>
/// <param name="TrainLoss">The batch loss (mean |pred − true|) of every iteration run.</param>
/// <param name="TotalLoss">The loss over the whole trajectory, before training (iteration 0), every <see cref="SpiralOptions.TestEvery"/> iterations and at the end.</param>
/// <param name="FinalLoss">The loss over the whole trajectory after the last iteration.</param>
/// <param name="SecondsPerIteration">The mean time of a training iteration (batch, solve, backward pass, Adam step),
/// over iterations 2…N (the first one warms up), evaluations excluded.</param>
/// <param name="CpuSecondsPerIteration">The same in the thread's CPU time (steadier on a shared machine; with one
/// libtorch thread every op runs on the calling thread).</param>
/// <param name="ForwardCalls">The mean calls of the dynamics per forward solve.</param>
/// <param name="BackwardCalls">The mean calls of the dynamics per backward pass (adjoint only).</param>
/// <param name="Times">The true trajectory's times, <c>[T]</c>.</param>
/// <param name="TrueStates">The true trajectory, <c>[T, 2]</c> as T pairs.</param>
/// <param name="LearnedStates">The learned trajectory from the same start, <c>[T, 2]</c>.</param>
/// <param name="VectorField">The learned dynamics on a 21 × 21 grid over [−2, 2]²: position and dy/dt.</param>
/// <param name="Interrupted">Whether the run stopped early.</param>
internal sealed record SpiralResult(
    IReadOnlyList<double> TrainLoss,
    IReadOnlyList<(int Iteration, double Loss)> TotalLoss,
    double FinalLoss,
    double SecondsPerIteration,
    double CpuSecondsPerIteration,
    double ForwardCalls,
    double BackwardCalls,
    double[] Times,
    (double X, double Y)[] TrueStates,
    (double X, double Y)[] LearnedStates,
    (double X, double Y, double U, double V)[] VectorField,
    bool Interrupted);
