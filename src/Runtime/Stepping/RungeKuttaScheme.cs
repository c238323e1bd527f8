using static TorchSharp.torch;

namespace NeuralOde.Stepping;

/// <summary>
/// An explicit Runge–Kutta scheme compiled by the NeuralOde generator from a <see cref="ButcherTableauAttribute"/>
/// declaration: one batched step with per-row step sizes, an embedded error estimate and optional dense output.
/// </summary>
/// <remarks>
/// Instances are immutable singletons without per-call state, safe to share between threads. The generated
/// subclass does arithmetic only; step-size control, masking and status live in the solvers.
/// </remarks>
public abstract class RungeKuttaScheme
{
    private TableauScalars? scalars;

    /// <summary>Gets the scheme's declared name, for example <c>"RKF45"</c>.</summary>
    public abstract string Name { get; }

    /// <summary>Gets the number of stages s.</summary>
    public abstract int Stages { get; }

    /// <summary>Gets the order of the propagated solution.</summary>
    public abstract int Order { get; }

    /// <summary>Gets the order of the embedded solution, or null when the scheme has no embedded weights.</summary>
    public abstract int? EmbeddedOrder { get; }

    /// <summary>Gets whether the scheme has an embedded error estimate and so supports adaptive steps.</summary>
    public bool HasErrorEstimate => EmbeddedOrder is not null;

    /// <summary>Gets whether the last stage is evaluated at the new solution (first same as last): an accepted
    /// step then yields the next step's first slope for free.</summary>
    public abstract bool IsFsal { get; }

    /// <summary>Gets whether the scheme declares a continuous extension (dense output) of its own.</summary>
    public abstract bool HasDenseOutput { get; }

    /// <summary>Gets the number of right-hand-side evaluations one step makes, given its first slope.</summary>
    public int EvaluationsPerStep => Stages - 1;

    /// <summary>Gets the tableau's coefficients as declared and checked.</summary>
    public abstract ButcherTableau Tableau { get; }

    /// <summary>
    /// Takes one step of every row from <paramref name="t"/> to <paramref name="t"/> + <paramref name="dt"/>.
    /// </summary>
    /// <param name="f">The right-hand side; it is called <see cref="EvaluationsPerStep"/> times.</param>
    /// <param name="t">Each row's time, <c>[B]</c>.</param>
    /// <param name="dt">Each row's step (negative when integrating backwards), <c>[B]</c>.</param>
    /// <param name="y">The state, <c>[B, ...]</c>.</param>
    /// <param name="k1">The slope <c>f(t, y)</c>, <c>[B, ...]</c>; it is read, never modified.</param>
    /// <returns>The new state, the error estimate, the FSAL slope and the slopes, owned by the caller (not the given k1 and dt).</returns>
    public abstract RungeKuttaStep Step(StageFunction f, Tensor t, Tensor dt, Tensor y, Tensor k1);

    /// <summary>Gets the declared order of the scheme's own continuous extension (checked by the generator), or null
    /// when it declares none.</summary>
    public virtual int? DenseOrder => null;

    /// <summary>
    /// Gets whether the continuous extension also weights the end slope f(t + dt, y₁), so that it must be
    /// evaluated through <see cref="Interpolate(Tensor, RungeKuttaStep, Tensor, Tensor, Tensor)"/>.
    /// </summary>
    public virtual bool InterpolationUsesEndSlope => false;

    /// <summary>
    /// Gets the number m of extra stages the continuous extension needs (0 for most schemes): evaluations of the right-hand
    /// side that a step makes only when it holds an output time, through <see cref="EvaluateDenseStages"/>.
    /// </summary>
    public virtual int DenseStages => 0;

    /// <summary>
    /// Evaluates the continuous extension's extra stages of a step, once per step that holds an output time:
    /// kᵢ = f(t + cᵢ·dt, y + h·Σⱼ aᵢⱼ·kⱼ) for i = s + 1, …, s + <see cref="DenseStages"/>, from the step's own stages.
    /// </summary>
    /// <param name="f">The right-hand side; it is called <see cref="DenseStages"/> times.</param>
    /// <param name="t">Each row's time at the step's start, <c>[B]</c>.</param>
    /// <param name="dt">The step per row that produced <paramref name="step"/>, <c>[B]</c>.</param>
    /// <param name="y">The state at the step's start, <c>[B, ...]</c>.</param>
    /// <param name="step">The step taken from <paramref name="y"/>.</param>
    /// <returns>The step with its s slopes followed by the m dense ones, each <c>[B, ...]</c>, to pass to
    /// <c>Interpolate</c>; it shares <paramref name="step"/>'s tensors (dispose one of the two), and it is
    /// <paramref name="step"/> itself when the scheme has no dense stages.</returns>
    public virtual RungeKuttaStep EvaluateDenseStages(StageFunction f, Tensor t, Tensor dt, Tensor y, RungeKuttaStep step) => step;

    /// <summary>
    /// Evaluates the scheme's own continuous extension inside a step from the step's stages alone:
    /// <c>y(t + θ·dt) = y + Σ bᵢ(θ)·h·kᵢ</c>.
    /// </summary>
    /// <param name="y">The state at the step's start, <c>[B, ...]</c>.</param>
    /// <param name="step">The step taken from <paramref name="y"/>, with its dense stages when <see cref="DenseStages"/> is
    /// not 0 (the step <see cref="EvaluateDenseStages"/> returns).</param>
    /// <param name="theta">The fraction of the step per row, <c>[B]</c>, normally in [0, 1].</param>
    /// <returns>The interpolated state, <c>[B, ...]</c>.</returns>
    /// <exception cref="NotSupportedException">The scheme declares no dense output (<see cref="HasDenseOutput"/> is false).</exception>
    /// <exception cref="InvalidOperationException">The dense output needs the end slope (<see cref="InterpolationUsesEndSlope"/>).</exception>
    public virtual Tensor Interpolate(Tensor y, RungeKuttaStep step, Tensor theta) =>
        InterpolationUsesEndSlope
            ? throw new InvalidOperationException($"The dense output of '{Name}' weights the end slope f(t + dt, y1); call Interpolate(y, step, dt, endSlope, theta).")
            : throw new NotSupportedException($"The scheme '{Name}' declares no dense output; use Hermite interpolation.");

    /// <summary>
    /// Evaluates the scheme's own continuous extension inside a step:
    /// <c>y(t + θ·dt) = y + Σ bᵢ(θ)·h·kᵢ (+ bₛ₊₁(θ)·h·f(t + dt, y₁) when <see cref="InterpolationUsesEndSlope"/>)</c>.
    /// </summary>
    /// <param name="y">The state at the step's start, <c>[B, ...]</c>.</param>
    /// <param name="step">The step taken from <paramref name="y"/>, with its dense stages when <see cref="DenseStages"/> is
    /// not 0 (the step <see cref="EvaluateDenseStages"/> returns).</param>
    /// <param name="dt">The step per row that produced <paramref name="step"/>, <c>[B]</c>.</param>
    /// <param name="endSlope">The slope at the step's end, <c>f(t + dt, step.Y)</c>, <c>[B, ...]</c> (the next step's
    /// first stage); read only when <see cref="InterpolationUsesEndSlope"/>, never modified.</param>
    /// <param name="theta">The fraction of the step per row, <c>[B]</c>, normally in [0, 1].</param>
    /// <returns>The interpolated state, <c>[B, ...]</c>.</returns>
    /// <exception cref="NotSupportedException">The scheme declares no dense output (<see cref="HasDenseOutput"/> is false).</exception>
    public virtual Tensor Interpolate(Tensor y, RungeKuttaStep step, Tensor dt, Tensor endSlope, Tensor theta) =>
        Interpolate(y, step, theta);

    /// <summary>Checks that <paramref name="step"/> holds the dense stages its interpolant reads.</summary>
    /// <param name="step">The step passed to <c>Interpolate</c>.</param>
    /// <exception cref="ArgumentException">It holds only the step's own stages: the dense ones were not evaluated.</exception>
    protected void RequireDenseStages(RungeKuttaStep step)
    {
        ArgumentNullException.ThrowIfNull(step);
        if (step.Slopes.Count < Stages + DenseStages)
        {
            throw new ArgumentException(
                $"The dense output of '{Name}' needs {DenseStages} extra stage(s) that this step does not hold; pass the step returned by EvaluateDenseStages.", nameof(step));
        }
    }

    /// <summary>
    /// Gets the native scalars of the tableau's coefficients for the generated step, created on its first call: not
    /// when the assembly loads and registers the scheme, which must not need libtorch.
    /// </summary>
    protected TableauScalars Scalars
    {
        get
        {
            // A race creates a second set that is dropped; either holds the same values.
            var scalars = Volatile.Read(ref this.scalars);
            return scalars ?? Interlocked.CompareExchange(ref this.scalars, new TableauScalars(Tableau), null) ?? this.scalars!;
        }
    }

    /// <summary>Reshapes the per-row <c>[B]</c> step or fraction <paramref name="perRow"/> to broadcast against <paramref name="y"/>.</summary>
    /// <param name="perRow">One value per row, <c>[B]</c>.</param>
    /// <param name="y">The state, <c>[B, ...]</c>.</param>
    /// <returns>A view of <paramref name="perRow"/> as <c>[B, 1, …, 1]</c>.</returns>
    protected static Tensor PerRow(Tensor perRow, Tensor y) => StepKernels.PerRow(perRow, y);

    /// <summary>The per-row step as the scale of the step's combinations: see <see cref="StepKernels.StepScale"/>.</summary>
    /// <param name="dt">The per-row step, <c>[B]</c>.</param>
    /// <param name="y">The state, <c>[B, ...]</c>.</param>
    /// <returns>The scale, <c>[B, 1, …, 1]</c> or <c>[B, ...]</c>.</returns>
    protected static Tensor StepScale(Tensor dt, Tensor y) => StepKernels.StepScale(dt, y);

    /// <summary><c>start + h·Σⱼ wⱼ·kⱼ</c>, a new tensor: see <see cref="StepKernels.Combine"/>.</summary>
    /// <param name="start">The start, <c>[B, ...]</c>.</param>
    /// <param name="h">The step's scale from <see cref="StepScale"/>.</param>
    /// <param name="weights">The nonzero weights, one per slope.</param>
    /// <param name="slopes">The slopes, <c>[B, ...]</c> each.</param>
    /// <returns>The combination, <c>[B, ...]</c>.</returns>
    protected static Tensor Combine(Tensor start, Tensor h, CombinationWeights weights, params Tensor[] slopes) => StepKernels.Combine(start, h, weights, slopes);

    /// <summary>The embedded error estimate <c>h·Σⱼ eⱼ·kⱼ</c> without an autograd graph: see
    /// <see cref="StepKernels.ErrorEstimate"/>.</summary>
    /// <param name="h">The step's scale from <see cref="StepScale"/>.</param>
    /// <param name="weights">The nonzero error weights, one per slope.</param>
    /// <param name="slopes">The slopes with a nonzero weight, <c>[B, ...]</c> each.</param>
    /// <returns>The estimate, <c>[B, ...]</c>.</returns>
    protected static Tensor ErrorEstimate(Tensor h, CombinationWeights weights, params Tensor[] slopes) => StepKernels.ErrorEstimate(h, weights, slopes);

    /// <summary>Returns the scheme's name.</summary>
    /// <returns>The name.</returns>
    public override string ToString() => Name;
}

/// <summary>
/// Implemented by every generated scheme type, so that a scheme can be passed as a type argument
/// (for example <c>Ode.Solve&lt;Fehlberg45.Method&gt;(…)</c>).
/// </summary>
/// <typeparam name="TSelf">The generated scheme type.</typeparam>
public interface IRungeKuttaScheme<TSelf>
    where TSelf : RungeKuttaScheme, IRungeKuttaScheme<TSelf>
{
    /// <summary>Gets the scheme's single instance.</summary>
    static abstract TSelf Instance { get; }
}
