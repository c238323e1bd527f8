using static TorchSharp.torch;

namespace NeuralOde.Solving;

/// <summary>
/// A terminal event for every row of a solve: each row stops at the first time its event function g(t, y) crosses
/// zero in the chosen <see cref="Direction"/>, located on the step's dense output to the clock's precision. The row
/// ends with <see cref="SolverStatus.Event"/>, its state is the state at the event, and the solution reports each
/// row's <see cref="OdeSolution.EventTimes"/> and <see cref="OdeSolution.EventIndices"/>.
/// </summary>
/// <remarks>
/// g is evaluated once per accepted step and a few times more in a step that holds a crossing. A crossing needs a
/// strict sign change from a nonzero value: a row whose g is exactly 0 at t0 does not stop there (it stops at the
/// next crossing), so restarting a solve from an event state does not fire the same event again.
/// </remarks>
public sealed class EventFunction
{
    private readonly Func<Tensor, Tensor, Tensor, Tensor> g;

    /// <summary>Creates an event from g(t, y).</summary>
    /// <param name="g">The event function: <c>t</c> <c>[B']</c> (state dtype) and <c>y</c> <c>[B', ...]</c> to
    /// <c>[B']</c>, or <c>[B', E]</c> for E events (the first to fire stops the row).</param>
    /// <param name="direction">Which crossings count.</param>
    public EventFunction(Func<Tensor, Tensor, Tensor> g, EventDirection direction = EventDirection.Either)
    {
        ArgumentNullException.ThrowIfNull(g);
        this.g = (t, y, _) => g(t, y);
        Direction = direction;
    }

    /// <summary>Creates an event from g(t, y, rows), for event functions with per-row parameters.</summary>
    /// <param name="g">The event function with the rows' indices in the batch: <c>(t [B'], y [B', ...], rows [B'] int64)</c>
    /// to <c>[B']</c> or <c>[B', E]</c>.</param>
    /// <param name="direction">Which crossings count.</param>
    public EventFunction(Func<Tensor, Tensor, Tensor, Tensor> g, EventDirection direction = EventDirection.Either)
    {
        ArgumentNullException.ThrowIfNull(g);
        this.g = g;
        Direction = direction;
    }

    /// <summary>Gets which crossings stop a row.</summary>
    public EventDirection Direction { get; }

    /// <summary>Evaluates g as <c>[B', E]</c> with its autograd graph (for the implicit-function gradient of an event).</summary>
    /// <param name="t">Each row's time, <c>[B']</c>, state dtype.</param>
    /// <param name="y">The states, <c>[B', ...]</c>.</param>
    /// <param name="rows">The rows' indices in the batch, <c>[B']</c>.</param>
    /// <returns>The event values, <c>[B', E]</c>.</returns>
    internal Tensor EvaluateWithGraph(Tensor t, Tensor y, Tensor rows)
    {
        var value = g(t, y, rows);
        return value.dim() == 1 ? value.unsqueeze(1) : value;
    }

    /// <summary>Evaluates g as <c>[B', E]</c> (E = 1 for a <c>[B']</c> function), checking its shape and dtype.</summary>
    /// <param name="t">Each row's time, <c>[B']</c>, state dtype.</param>
    /// <param name="y">The states, <c>[B', ...]</c>.</param>
    /// <param name="rows">The rows' indices in the batch, <c>[B']</c>.</param>
    /// <returns>The event values, <c>[B', E]</c>, detached.</returns>
    internal Tensor Evaluate(Tensor t, Tensor y, Tensor rows)
    {
        using var scope = NewDisposeScope();
        Tensor value;
        using (no_grad())
        {
            value = g(t, y, rows) ?? throw new InvalidOperationException("The event function returned null; it must return [B] or [B, E].");
        }

        var width = y.shape[0];
        var ok = (value.dim() == 1 && value.shape[0] == width) || (value.dim() == 2 && value.shape[0] == width && value.shape[1] >= 1);
        if (!ok || !value.is_floating_point())
        {
            throw new InvalidOperationException(
                $"The event function returned a {value.dtype} tensor of shape [{string.Join(", ", value.shape)}] for {width} rows; it must return floating point [B] or [B, E].");
        }

        var columns = value.dim() == 1 ? value.unsqueeze(1) : value;
        return columns.detach().to_type(y.dtype).clone().MoveToOuterDisposeScope();
    }
}
