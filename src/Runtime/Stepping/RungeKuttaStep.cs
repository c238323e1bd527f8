using static TorchSharp.torch;

namespace NeuralOde.Stepping;

/// <summary>
/// The tensors one explicit Runge–Kutta step produces. The caller owns them (they were moved out of the step's
/// dispose scope) and disposes them with <see cref="Dispose"/> unless it keeps some.
/// </summary>
public sealed class RungeKuttaStep : IDisposable
{
    /// <summary>Creates a step result.</summary>
    /// <param name="y">The propagated solution at <c>t + dt</c>, <c>[B, ...]</c>.</param>
    /// <param name="error">The local error estimate <c>h·Σ eᵢkᵢ</c>, <c>[B, ...]</c>, or null without embedded weights.</param>
    /// <param name="endSlope">The slope <c>f(t + dt, y)</c> when the scheme is FSAL, else null.</param>
    /// <param name="dt">The per-row step the step was taken with, <c>[B]</c> (not owned by the step).</param>
    /// <param name="slopes">The stage slopes <c>kᵢ</c>, each <c>[B, ...]</c>: the first is the step's given <c>k1</c>
    /// (not owned by the step).</param>
    /// <param name="stageStates">The states the stage slopes were evaluated at, <c>Yᵢ</c> for i = 1…s, each
    /// <c>[B, ...]</c>: the first is the step's input <c>y</c> itself (not owned by the step), or null when the
    /// step does not report them (a sub-step assembled from another step's rows).</param>
    public RungeKuttaStep(Tensor y, Tensor? error, Tensor? endSlope, Tensor dt, IReadOnlyList<Tensor> slopes, IReadOnlyList<Tensor>? stageStates = null)
    {
        Y = y;
        Error = error;
        EndSlope = endSlope;
        Dt = dt;
        Slopes = slopes;
        StageStates = stageStates;
    }

    /// <summary>Gets the propagated solution at <c>t + dt</c>, <c>[B, ...]</c>.</summary>
    public Tensor Y { get; }

    /// <summary>Gets the local error estimate <c>h·Σ (bᵢ − b̂ᵢ) kᵢ</c>, <c>[B, ...]</c>; null for schemes without embedded weights.</summary>
    public Tensor? Error { get; }

    /// <summary>Gets <c>f(t + dt, Y)</c> for FSAL schemes (the next step's first stage, for free); null otherwise.</summary>
    public Tensor? EndSlope { get; }

    /// <summary>Gets the per-row step <c>h</c> the step was taken with, <c>[B]</c>: every increment of the step is
    /// <c>h·Σ wᵢ·kᵢ</c> over <see cref="Slopes"/>.</summary>
    public Tensor Dt { get; }

    /// <summary>Gets the stage slopes <c>kᵢ = f(t + cᵢ·h, Yᵢ)</c> for i = 1…s (then the dense stages, for a step from
    /// <see cref="RungeKuttaScheme.EvaluateDenseStages"/>), each <c>[B, ...]</c>, as the right-hand side returned them:
    /// not scaled by the step. The first is the step's given <c>k1</c>.</summary>
    public IReadOnlyList<Tensor> Slopes { get; }

    /// <summary>
    /// Gets the states the stage slopes were evaluated at, <c>Yᵢ = y + Σⱼ aᵢⱼ·h·kⱼ</c> for i = 1…s, each
    /// <c>[B, ...]</c>, as the very tensors the step passed to the right-hand side: <c>kᵢ = f(t + cᵢ·dt, Yᵢ)</c>. The
    /// first is the step's input <c>y</c> itself (its slope is the given <c>k1</c>); for FSAL schemes the last is
    /// <see cref="Y"/>. Null when the step does not report them. The step passes each only to the right-hand side: a
    /// caller that reads none may dispose each inside its right-hand side once the slope there is evaluated (the
    /// solver does when no observer reads them), and the entries are then disposed tensors.
    /// </summary>
    public IReadOnlyList<Tensor>? StageStates { get; }

    /// <summary>Disposes the stage states the step owns and no other member holds (its input and <see cref="Y"/> stay), once
    /// nothing needs them any more: a solver's iteration outlives them, and each is as large as the state.</summary>
    internal void ReleaseStageStates()
    {
        if (StageStates is not { } states)
        {
            return;
        }

        for (var i = 1; i < states.Count; i++)
        {
            var state = states[i];
            if (!ReferenceEquals(state, states[0]) && !ReferenceEquals(state, Y) && !state.IsInvalid)
            {
                state.Dispose();
            }
        }
    }

    /// <summary>Disposes every tensor of the step that is still alive (not the first slope nor the first stage state, nor
    /// <see cref="Dt"/>: they are the step's inputs).</summary>
    public void Dispose()
    {
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance) { Dt };
        if (StageStates is { Count: > 0 } states)
        {
            seen.Add(states[0]);
        }

        if (Slopes.Count > 0)
        {
            seen.Add(Slopes[0]);
        }

        foreach (var tensor in Slopes.Concat(StageStates ?? []).Append(Y).Append(Error).Append(EndSlope))
        {
            if (tensor is not null && seen.Add(tensor) && !tensor.IsInvalid)
            {
                tensor.Dispose();
            }
        }
    }
}
