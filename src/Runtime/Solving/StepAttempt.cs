using NeuralOde.Stepping;
using static TorchSharp.torch;

namespace NeuralOde.Solving;

/// <summary>
/// The working values of one iteration of the solver loop, filled phase by phase (clip → step → assess → accept
/// → outputs → control → commit). Every tensor is a temporary of the iteration's dispose scope; per-row vectors
/// are <c>[W]</c>, states <c>[W, ...]</c>.
/// </summary>
internal sealed class StepAttempt
{
    /// <summary>Gets which rows of the work set step, <c>[W]</c> bool.</summary>
    public required Tensor Active { get; init; }

    /// <summary>Gets each row's time at the step's start, float64.</summary>
    public required Tensor T { get; init; }

    /// <summary>Gets the state at the step's start.</summary>
    public required Tensor Y { get; init; }

    /// <summary>Gets the slope at the step's start.</summary>
    public required Tensor K1 { get; init; }

    /// <summary>Gets the signed step attempted (clipped to land on t1), float64.</summary>
    public required Tensor Dt { get; init; }

    /// <summary>Gets whether the step ends the row's span, bool.</summary>
    public required Tensor Last { get; init; }

    /// <summary>Gets the time the step reaches, float64 (exactly t1 for the last step).</summary>
    public required Tensor TEnd { get; init; }

    /// <summary>Gets <see cref="T"/> in the state's dtype, as the dynamics see it.</summary>
    public required Tensor TState { get; init; }

    /// <summary>Gets <see cref="Dt"/> in the state's dtype, as the step uses it.</summary>
    public required Tensor DtState { get; init; }

    /// <summary>Gets or sets the generated step's results.</summary>
    public RungeKuttaStep Step { get; set; } = null!;

    /// <summary>Gets or sets the step with the dense output's extra stages, evaluated on the first interpolation inside
    /// it (the step itself when the scheme has none); null until then.</summary>
    public RungeKuttaStep? DenseStep { get; set; }

    /// <summary>Gets or sets the batched calls of the dynamics the step's stages made (and its dense stages, once
    /// evaluated).</summary>
    public int StageCalls { get; set; }

    /// <summary>Gets or sets whether each row's own step is finite, bool.</summary>
    public Tensor RowFinite { get; set; } = null!;

    /// <summary>Gets or sets whether the step the decision is based on is finite (the batch's under a shared step).</summary>
    public Tensor Finite { get; set; } = null!;

    /// <summary>Gets or sets the error norm (zeros for fixed steps), state dtype.</summary>
    public Tensor ErrorNorm { get; set; } = null!;

    /// <summary>Gets or sets which rows accept the step, bool.</summary>
    public Tensor Accept { get; set; } = null!;

    /// <summary>Gets or sets whether every row of the work set accepted (so that selecting is a no-op).</summary>
    public bool AllAccepted { get; set; }

    /// <summary>Gets or sets the rows that accepted their last step, bool.</summary>
    public Tensor Done { get; set; } = null!;

    /// <summary>Gets or sets the next state.</summary>
    public Tensor YNew { get; set; } = null!;

    /// <summary>Gets or sets the next time, float64.</summary>
    public Tensor TNew { get; set; } = null!;

    /// <summary>Gets or sets the slope at the next state.</summary>
    public Tensor K1New { get; set; } = null!;

    /// <summary>Gets or sets the rows that needed the end-slope evaluation (null when none was made).</summary>
    public Tensor? SlopeEvaluated { get; set; }

    /// <summary>Gets or sets the statuses after this iteration, int64.</summary>
    public Tensor Status { get; set; } = null!;

    /// <summary>Gets or sets the event values at the next state, <c>[W, E]</c>, or null without an event function.</summary>
    public Tensor? EventValues { get; set; }

    /// <summary>Gets or sets the latest time whose outputs this step may write (a row's event time, where it fired
    /// in this step), float64; null when it is <see cref="TEnd"/> for every row.</summary>
    public Tensor? OutputLimit { get; set; }
}
