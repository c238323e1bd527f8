using NeuralOde.Solving.Control;
using NeuralOde.Stepping;
using static TorchSharp.torch;

namespace NeuralOde.Solving;

/// <summary>
/// Finds where terminal events fire inside a step: which rows cross, the crossing's fraction of the step on the
/// step's interpolant (to the clock's resolution), and the event time and state with the gradient of the root's
/// position when backpropagating. The solver loop decides what the rows do with it.
/// </summary>
/// <param name="events">The event function.</param>
/// <param name="evaluate">The dynamics at the work set's rows, times in the state's dtype.</param>
/// <param name="dtype">The state's dtype.</param>
internal sealed class EventLocator(EventFunction events, Func<Tensor, Tensor, Tensor> evaluate, ScalarType dtype)
{
    // The event's dependence on y0 and the parameters when backpropagating, by the implicit function theorem at
    // the root: g(t*, y(t*)) = 0 gives dt*/dθ = −(∂g/∂θ + ∂g/∂y·∂y/∂θ) / ġ with ġ = ∂g/∂t + ∂g/∂y·f(t*, y*). The
    // returned time and state have the root's values exactly and carry that gradient (the state moves with t* along
    // f).
    /// <summary>The event state and time with their gradient, by the implicit function theorem at the root.</summary>
    /// <param name="yEvent">The state at the root, <c>[W, ...]</c> (with its graph).</param>
    /// <param name="tEvent">The root's float64 time, <c>[W]</c>.</param>
    /// <param name="rows">The rows of the work set, <c>[W]</c> int64.</param>
    /// <param name="column">Which event fired in each row, <c>[W]</c> int64 (0 where none did).</param>
    /// <returns>The state and time, with the root's values and the gradient of the root's position.</returns>
    public (Tensor State, Tensor Time) WithGradient(Tensor yEvent, Tensor tEvent, Tensor rows, Tensor column)
    {
        var tState = InStateDtype(tEvent);
        Tensor slope, rate;
        using (no_grad())
        {
            slope = evaluate(tState, yEvent.detach()).detach();
        }

        using (enable_grad())
        {
            var tProbe = tState.detach().requires_grad_(true);
            var yProbe = yEvent.detach().requires_grad_(true);
            var gProbe = events.EvaluateWithGraph(tProbe, yProbe, rows).gather(1, column.unsqueeze(1)).squeeze(1);
            var partials = autograd.grad([gProbe], [tProbe, yProbe], [ones_like(gProbe)], allow_unused: true);
            using (no_grad())
            {
                // An input g does not use has no gradient (TorchSharp returns null or an empty handle).
                var dgdt = partials[0] is { IsInvalid: false } gt ? gt : zeros_like(tProbe);
                var dgdy = partials[1] is { IsInvalid: false } gy ? gy : zeros_like(yProbe);
                rate = dgdt.add(dgdy.mul(slope).reshape(slope.shape[0], -1).sum(1));

                // Rows without an event (or a tangential crossing, whose time has no derivative) get no shift.
                rate = rate.masked_fill_(rate.eq(0), double.PositiveInfinity);
            }
        }

        var g = events.EvaluateWithGraph(tState, yEvent, rows).gather(1, column.unsqueeze(1)).squeeze(1);

        // (g − g.detach()) is exactly 0 with g's gradient: the time keeps the root's value.
        var shift = g.sub(g.detach()).div(rate).neg();
        var time = tEvent.add(shift.to_type(ScalarType.Float64));
        var state = yEvent.add(slope.mul(StepKernels.PerRow(shift, slope)));
        return (state, time);
    }

    // Where each crossing row's event `column` changes sign inside the step: the Illinois variant of regula falsi on
    // θ ∈ [0, 1], keeping a bracket [a, b] with g(a) on the old side and g(b) on the new one, until b − a is below
    // the clock's resolution. Returns b per row, [W] float64 (1 for the other rows).
    /// <summary>The fraction θ of the step where each crossing row's event changes sign (Illinois regula falsi).</summary>
    /// <param name="clockStart">Each row's float64 time at the step's start, <c>[W]</c>.</param>
    /// <param name="clockStep">Each row's float64 step, <c>[W]</c>.</param>
    /// <param name="clockEnd">Each row's float64 time at the step's end, <c>[W]</c>.</param>
    /// <param name="rows">The rows of the work set, <c>[W]</c> int64.</param>
    /// <param name="column">The event.</param>
    /// <param name="rowsCrossing">The rows whose event crosses, <c>[W]</c> bool.</param>
    /// <param name="gBefore">The event's values at the step's start, <c>[W]</c>.</param>
    /// <param name="gAfter">The event's values at the step's end, <c>[W]</c>.</param>
    /// <param name="interpolate">The state at fractions θ <c>[W]</c> (state dtype) of the step.</param>
    /// <returns>θ per row, <c>[W]</c> float64 (1 for the other rows).</returns>
    public Tensor Bracket(Tensor clockStart, Tensor clockStep, Tensor clockEnd, Tensor rows, int column, Tensor rowsCrossing, Tensor gBefore, Tensor gAfter, Func<Tensor, Tensor> interpolate)
    {
        var a = zeros_like(clockStart);
        var b = ones_like(clockStart);
        var ga = gBefore.to_type(ScalarType.Float64);
        var gb = gAfter.to_type(ScalarType.Float64);
        var lastSide = zeros_like(clockStart, dtype: ScalarType.Int64);
        var span = clockStep.abs();
        var resolution = clockStart.abs().maximum(clockEnd.abs()).mul(StepController.ClockSpacing);
        for (var iteration = 0; iteration < 200; iteration++)
        {
            var open = rowsCrossing.logical_and(b.sub(a).mul(span).gt(resolution));
            if (!open.any().item<bool>())
            {
                break;
            }

            var falsi = a.mul(gb).sub(b.mul(ga)).div(gb.sub(ga));
            var mid = a.add(b).mul(0.5);
            var theta = where(falsi.isfinite().logical_and(falsi.gt(a)).logical_and(falsi.lt(b)), falsi, mid);
            theta = where(open, theta, b);
            var state = interpolate(InStateDtype(theta));
            var time = clockStart.add(clockStep.mul(theta));
            var g = events.Evaluate(InStateDtype(time), state, rows).select(1, column).to_type(ScalarType.Float64);

            // θ lands on the old side: move a (and halve g(b) if a moved last time too); else move b.
            var oldSide = g.sign().eq(ga.sign()).logical_and_(g.ne(0)).logical_and_(open);
            var newSide = oldSide.logical_not().logical_and_(open);
            gb = where(oldSide.logical_and(lastSide.eq(-1)), gb.mul(0.5), gb);
            ga = where(newSide.logical_and(lastSide.eq(1)), ga.mul(0.5), ga);
            a = where(oldSide, theta, a);
            ga = where(oldSide, g, ga);
            b = where(newSide, theta, b);
            gb = where(newSide, g, gb);

            // An exact zero closes the bracket there.
            var exact = open.logical_and(g.eq(0));
            a = where(exact, theta, a);
            lastSide = where(oldSide, full_like(lastSide, -1), where(newSide, full_like(lastSide, 1), lastSide));
        }

        return where(rowsCrossing, b, ones_like(b));
    }

    // [W, E] bool: the events whose value changes sign, from a nonzero value, in the given direction.
    /// <summary>The events whose value changes sign, from a nonzero value, in the given direction.</summary>
    /// <param name="before">The values at the step's start, <c>[W, E]</c>.</param>
    /// <param name="after">The values at the step's end, <c>[W, E]</c>.</param>
    /// <param name="direction">The crossings that count.</param>
    /// <returns><c>[W, E]</c> bool.</returns>
    public static Tensor Crossing(Tensor before, Tensor after, EventDirection direction)
    {
        var rising = before.lt(0).logical_and_(after.ge(0));
        var falling = before.gt(0).logical_and_(after.le(0));
        return direction switch
        {
            EventDirection.Rising => rising,
            EventDirection.Falling => falling,
            _ => rising.logical_or_(falling),
        };
    }

    // The clock's float64 values as the dynamics see them (in the state's dtype); a new tensor.
    private Tensor InStateDtype(Tensor clock) => dtype == ScalarType.Float64 ? clock.alias() : clock.to_type(dtype);
}
