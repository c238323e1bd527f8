using NeuralOde.Stepping;
using static TorchSharp.torch;

namespace NeuralOde.Solving;

/// <summary>
/// One iteration's step attempt of the work set, filled phase by phase: the per-row control quantities in managed
/// arrays (reused from one iteration to the next, the first <see cref="Width"/> entries valid), the states and
/// slopes as tensors of the iteration's dispose scope.
/// </summary>
internal sealed class StepAttempt
{
    private Tensor[] denseStages = [];

    /// <summary>Creates the buffers for up to <paramref name="capacity"/> rows.</summary>
    /// <param name="capacity">The most rows of a work set.</param>
    public StepAttempt(int capacity)
    {
        Active = new bool[capacity];
        Dt = new double[capacity];
        Last = new bool[capacity];
        TEnd = new double[capacity];
        TNew = new double[capacity];
        ErrorNorm = new double[capacity];
        Finite = new bool[capacity];
        RowFinite = new bool[capacity];
        Accept = new bool[capacity];
        Done = new bool[capacity];
        SlopeEvaluated = new bool[capacity];
        SlopeFinite = new bool[capacity];
        OutputLimit = new double[capacity];
    }

    /// <summary>Gets or sets the number of rows of the work set this iteration.</summary>
    public int Width { get; set; }

    /// <summary>Gets which rows are running.</summary>
    public bool[] Active { get; }

    /// <summary>Gets each row's attempted signed step (float64, clipped to land on t1).</summary>
    public double[] Dt { get; }

    /// <summary>Gets whether each row's attempt ends at its t1.</summary>
    public bool[] Last { get; }

    /// <summary>Gets each row's time at the attempt's end (exactly t1 for a last step).</summary>
    public double[] TEnd { get; }

    /// <summary>Gets or sets each row's time after the iteration (swapped with the work set's on commit).</summary>
    public double[] TNew { get; set; }

    /// <summary>Gets each row's error norm (the batch's under a shared step size; 0 for fixed steps).</summary>
    public double[] ErrorNorm { get; }

    /// <summary>Gets whether each row's step counts as finite for control (the batch's under a shared step size).</summary>
    public bool[] Finite { get; }

    /// <summary>Gets whether each row's own new state and error are finite.</summary>
    public bool[] RowFinite { get; }

    /// <summary>Gets whether each row accepted the step.</summary>
    public bool[] Accept { get; }

    /// <summary>Gets whether each row accepted its last step (it is done).</summary>
    public bool[] Done { get; }

    /// <summary>Gets whether each row counts the end-slope evaluation as its own (when <see cref="HasSlopeEvaluation"/>).</summary>
    public bool[] SlopeEvaluated { get; }

    /// <summary>Gets or sets whether the end slope was evaluated in this iteration (a scheme without FSAL).</summary>
    public bool HasSlopeEvaluation { get; set; }

    /// <summary>Gets whether each row's end slope from the step (FSAL) is finite, when <see cref="HasSlopeFinite"/>.</summary>
    public bool[] SlopeFinite { get; }

    /// <summary>Gets or sets whether <see cref="SlopeFinite"/> was read with the error norms this iteration.</summary>
    public bool HasSlopeFinite { get; set; }

    /// <summary>Gets each row's limit for output times this step (its event time, else <see cref="TEnd"/>) when
    /// <see cref="HasOutputLimit"/>.</summary>
    public double[] OutputLimit { get; }

    /// <summary>Gets or sets whether an event shortened some row's step.</summary>
    public bool HasOutputLimit { get; set; }

    /// <summary>Gets or sets the dynamics' calls of the step itself (stages 2…s, and its dense stages once evaluated).</summary>
    public int StageCalls { get; set; }

    /// <summary>Gets or sets each row's time in the state's dtype, <c>[W]</c>.</summary>
    public Tensor TState { get; set; } = null!;

    /// <summary>Gets or sets each row's attempted step in the state's dtype, <c>[W]</c>.</summary>
    public Tensor DtState { get; set; } = null!;

    /// <summary>Gets or sets the state at the step's start, <c>[W, ...]</c>.</summary>
    public Tensor Y { get; set; } = null!;

    /// <summary>Gets or sets the slope at the step's start, <c>[W, ...]</c>.</summary>
    public Tensor K1 { get; set; } = null!;

    /// <summary>Gets or sets the generated step's results.</summary>
    public RungeKuttaStep Step { get; set; } = null!;

    /// <summary>
    /// Gets the step with the dense output's extra stages, once evaluated in this iteration; null until then (and for
    /// schemes without dense stages). Its extra stages belong to no dispose scope (the interpolant is called inside
    /// scopes that end with each output): <see cref="SetDenseStep"/> takes them, and the next <see cref="Begin"/> or
    /// <see cref="DisposeDenseStages"/> disposes them.
    /// </summary>
    public RungeKuttaStep? DenseStep { get; private set; }

    /// <summary>Gets or sets the next state of every row, <c>[W, ...]</c> (the start state where not accepted).</summary>
    public Tensor YNew { get; set; } = null!;

    /// <summary>Gets or sets the slope at <see cref="YNew"/>, <c>[W, ...]</c>.</summary>
    public Tensor K1New { get; set; } = null!;

    /// <summary>Gets or sets the event values at the next state, <c>[W, E]</c>, or null without events.</summary>
    public Tensor? EventValues { get; set; }

    /// <summary>Gets or sets <see cref="Active"/> as a <c>[W]</c> bool tensor, once made this iteration.</summary>
    public Tensor? ActiveRows { get; set; }

    /// <summary>Gets or sets <see cref="Accept"/> as a <c>[W]</c> bool tensor, once made this iteration.</summary>
    public Tensor? AcceptRows { get; set; }

    /// <summary>Gets or sets the float64 clock at the step's start, <c>[W]</c>, once made this iteration.</summary>
    public Tensor? ClockStart { get; set; }

    /// <summary>Gets or sets the float64 clock at the step's end, <c>[W]</c>, once made this iteration.</summary>
    public Tensor? ClockEnd { get; set; }

    /// <summary>Gets or sets the float64 attempted step, <c>[W]</c>, once made this iteration.</summary>
    public Tensor? ClockStep { get; set; }

    /// <summary>Starts an iteration over <paramref name="width"/> rows.</summary>
    /// <param name="width">The work set's size.</param>
    public void Begin(int width)
    {
        Width = width;
        HasSlopeEvaluation = false;
        HasSlopeFinite = false;
        HasOutputLimit = false;
        EventValues = null;
        ActiveRows = AcceptRows = ClockStart = ClockEnd = ClockStep = null;
        DisposeDenseStages();
    }

    /// <summary>Keeps the step with its dense stages for the rest of the iteration, taking the dense stages out of their
    /// dispose scope.</summary>
    /// <param name="step">The step <see cref="RungeKuttaScheme.EvaluateDenseStages"/> returned.</param>
    /// <param name="stages">The scheme's own stages s; the slopes after them are the dense ones.</param>
    public void SetDenseStep(RungeKuttaStep step, int stages)
    {
        DisposeDenseStages();
        DenseStep = step;
        denseStages = [.. step.Slopes.Skip(stages)];
        foreach (var stage in denseStages)
        {
            stage.DetachFromDisposeScope();
        }
    }

    /// <summary>Disposes the dense stages of the iteration, if any were evaluated.</summary>
    public void DisposeDenseStages()
    {
        foreach (var stage in denseStages)
        {
            stage.Dispose();
        }

        denseStages = [];
        DenseStep = null;
    }
}
