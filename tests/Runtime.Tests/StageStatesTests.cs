using NeuralOde.Solving;
using NeuralOde.Stepping;
using static TorchSharp.torch;

namespace NeuralOde.Tests;

/// <summary>
/// The generated step's report of its stage states (<see cref="RungeKuttaStep.StageStates"/>), which the adjoint
/// computes its parameter gradient from: each is the very tensor the stage's slope was evaluated at, and equals
/// <c>y + Σⱼ aᵢⱼ·h·kⱼ</c> recomputed here from the declared tableau.
/// </summary>
[Collection("Torch")]
public sealed class StageStatesTests
{
    [Theory]
    [MemberData(nameof(TestSchemes.All), MemberType = typeof(TestSchemes))]
    public void StageStates_AreTheStatesTheSlopesWereEvaluatedAt(string name)
    {
        using var scope = NewDisposeScope();
        var scheme = Schemes.Get(name);
        var tableau = scheme.Tableau;
        var y = randn(4, 3, dtype: ScalarType.Float64, generator: new Generator(7));
        var t = tensor(new[] { 0.0, 0.5, -1.0, 2.0 }, dtype: ScalarType.Float64);
        var dt = tensor(new[] { 0.1, 0.2, -0.05, 0.3 }, dtype: ScalarType.Float64);

        // A nonlinear, time-dependent right-hand side that records what it was called with.
        var calls = new List<(double[] T, Tensor Y)>();
        Tensor F(Tensor time, Tensor state)
        {
            calls.Add((time.data<double>().ToArray(), state)); // the times are the step's temporaries
            return state.sin().mul(time.unsqueeze(1).cos()).add(state.square().mul(0.3));
        }

        var k1 = F(t, y);
        calls.Clear();
        using var step = scheme.Step(F, t, dt, y, k1);

        var states = step.StageStates;
        Assert.NotNull(states);
        Assert.Equal(tableau.Stages, states.Count);
        Assert.Same(y, states[0]);
        Assert.Equal(tableau.Stages - 1, calls.Count);
        var h = dt.unsqueeze(1);
        for (var i = 1; i < tableau.Stages; i++)
        {
            // The slope of stage i was evaluated at this very tensor, at t + cᵢ·dt...
            Assert.Same(calls[i - 1].Y, states[i]);
            var time = t.add(dt, tableau.C[i].Value);
            Assert.Equal(time.data<double>().ToArray(), calls[i - 1].T);

            // ...which is y + Σⱼ aᵢⱼ·h·kⱼ of the tableau, and f there is the step's slope.
            var expected = y.clone();
            for (var j = 0; j < i; j++)
            {
                expected = expected.add(step.Slopes[j].mul(h), tableau.A[i][j].Value);
            }

            Assert.True(states[i].allclose(expected, rtol: 1e-14, atol: 1e-14), $"{name}: stage {i + 1}'s state");
            Assert.True(step.Slopes[i].allclose(F(time, states[i]), rtol: 1e-14, atol: 1e-14), $"{name}: stage {i + 1}'s slope");
        }

        if (scheme.IsFsal)
        {
            Assert.Same(step.Y, states[^1]);
        }
    }

    [Fact]
    public void Dispose_LeavesTheStepsInputAlone()
    {
        using var scope = NewDisposeScope();
        var scheme = Schemes.Get("DOPRI5");
        var y = randn(2, 3, dtype: ScalarType.Float64);
        var t = zeros(2, dtype: ScalarType.Float64);
        var dt = full(2, 0.1, dtype: ScalarType.Float64);
        var step = scheme.Step((_, state) => state.neg(), t, dt, y, y.neg());
        var inner = step.StageStates![1];

        step.Dispose();

        Assert.False(y.IsInvalid);
        Assert.True(inner.IsInvalid);
    }

    [Theory]
    [InlineData("DOPRI5")]
    [InlineData("RKF45")]
    [InlineData("BS32")]
    public void Observer_IsToldEachStepAndStageBeforeItIsEvaluated(string name)
    {
        using var scope = NewDisposeScope();
        var scheme = Schemes.Get(name);
        var observer = new Recorder();
        var y0 = randn(6, 2, dtype: ScalarType.Float64, generator: new Generator(3));
        var rates = linspace(0.5, 4.0, 6, dtype: ScalarType.Float64).unsqueeze(1);
        Tensor F(Tensor t, Tensor y, Tensor rows)
        {
            observer.Events.Add(("f", observer.Announced, y));
            observer.Announced = -1;
            return y.mul(rates.index_select(0, rows)).neg().add(t.unsqueeze(1).sin());
        }

        using var solution = Ode.Solve(scheme, F, y0, 0.0, 2.0, SolverOptions.Adaptive(1e-6, 1e-8), observer);

        Assert.All(solution.Statuses, s => Assert.Equal(SolverStatus.Success, s));
        Assert.True(observer.Steps > 3, "the solve took too few steps to show anything");

        // Every step: Starting, then each stage 1 … s − 1 announced just before its evaluation at that stage's own
        // state, in order, then Accepted; evaluations outside a step (first slopes, probes, end slopes) are not announced.
        var events = observer.Events;
        var steps = 0;
        for (var e = 0; e < events.Count; e++)
        {
            if (events[e].Kind != "start")
            {
                Assert.True(events[e].Kind == "f" && events[e].Stage == -1, $"{name}: event {e} ({events[e].Kind}, stage {events[e].Stage}) outside a step");
                continue;
            }

            var states = observer.StageStates[steps++];
            for (var i = 1; i < scheme.Stages; i++)
            {
                var evaluation = events[e + i];
                Assert.Equal(("f", i), (evaluation.Kind, evaluation.Stage));
                Assert.Same(states[i], evaluation.State);
            }

            Assert.Equal("accepted", events[e + scheme.Stages].Kind);
            e += scheme.Stages;
        }

        Assert.Equal(observer.Steps, steps);
    }

    [Theory]
    [InlineData("DOPRI5")]
    [InlineData("Tsit5")]
    [InlineData("BS32")]
    public void Solve_ReleasingEachStageStateEarly_GivesTheBitsOfKeepingThem(string name)
    {
        // Without an observer the solver disposes a stage's state once its slope is evaluated; with one it keeps the
        // states to the end of the step. The results are the same bits, and the early release did happen: more calls
        // come after one whose state is already disposed (with FSAL schemes only the early release makes a stage's
        // state die before the next stage's call; rejected steps and the probe do it in both solves).
        using var scope = NewDisposeScope();
        var scheme = Schemes.Get(name);
        var y0 = randn(7, 3, dtype: ScalarType.Float32, generator: new Generator(5));
        Tensor? previous = null;
        var afterDisposed = 0;
        Tensor F(Tensor t, Tensor y, Tensor rows)
        {
            if (previous is { IsInvalid: true })
            {
                afterDisposed++;
            }

            previous = y;
            return y.sin().mul(t.unsqueeze(1).cos()).sub(y.mul(0.5));
        }

        var options = SolverOptions.Adaptive(1e-5, 1e-7);
        using var kept = Ode.Solve(scheme, F, y0, 0.0, 3.0, options, new Recorder());
        var whenKept = afterDisposed;
        (previous, afterDisposed) = (null, 0);
        using var early = Ode.Solve(scheme, F, y0, 0.0, 3.0, options, null);

        Assert.True(afterDisposed > whenKept, $"{name}: {afterDisposed} calls after a disposed state without an observer, {whenKept} with one");
        Assert.Equal(kept.Y.data<float>().ToArray(), early.Y.data<float>().ToArray());
        Assert.Equal(kept.Stats.AcceptedSteps.data<long>().ToArray(), early.Stats.AcceptedSteps.data<long>().ToArray());
        Assert.Equal(kept.Stats.RejectedSteps.data<long>().ToArray(), early.Stats.RejectedSteps.data<long>().ToArray());
    }

    // Records what the solver tells a step observer, and what the dynamics were called with in between.
    private sealed class Recorder : IStepObserver
    {
        public List<(string Kind, int Stage, Tensor? State)> Events { get; } = [];

        public List<Tensor[]> StageStates { get; } = [];

        public int Announced { get; set; } = -1;

        public int Steps { get; private set; }

        public void Starting(StepStart start)
        {
            Steps++;
            Events.Add(("start", -1, null));
        }

        public void Evaluating(int stage) => Announced = stage;

        public (Tensor SumOfSquares, long Count)? ErrorContribution(StepContext context) => null;

        public void Accepted(StepContext context, Tensor accept)
        {
            Events.Add(("accepted", -1, null));
            StageStates.Add([.. context.Step.StageStates!]);
        }
    }
}
