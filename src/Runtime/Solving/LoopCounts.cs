namespace NeuralOde.Solving;

/// <summary>What the solver loop did for a set of rows: its batched calls of the dynamics, the rows those calls
/// evaluated, its iterations and its host reads (see <see cref="SolverStats"/>).</summary>
/// <param name="Calls">Batched calls of the dynamics.</param>
/// <param name="RowEvaluations">Rows evaluated, summed over the calls.</param>
/// <param name="Iterations">Iterations of the loop.</param>
/// <param name="HostReads">Reads of per-row values out of tensors.</param>
internal readonly record struct LoopCounts(long Calls, long RowEvaluations, long Iterations, long HostReads);
