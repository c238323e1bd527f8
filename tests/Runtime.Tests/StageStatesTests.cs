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

            // ...which is y + Σⱼ aᵢⱼ·h·kⱼ of the tableau, and h·f there is the step's scaled stage.
            var expected = y.clone();
            for (var j = 0; j < i; j++)
            {
                expected = expected.add(step.ScaledStages[j], tableau.A[i][j].Value);
            }

            Assert.True(states[i].allclose(expected, rtol: 1e-14, atol: 1e-14), $"{name}: stage {i + 1}'s state");
            Assert.True(step.ScaledStages[i].allclose(F(time, states[i]).mul(h), rtol: 1e-14, atol: 1e-14), $"{name}: stage {i + 1}'s slope");
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
}
