using NeuralOde.Stepping;
using TorchSharp;
using static TorchSharp.torch;

namespace NeuralOde.Tests;

/// <summary>
/// The continuous extension at fractions the solver holds on the host (weights bᵢ(θ) evaluated there): the same
/// states as the generated <c>Interpolate</c>, row by row, with and without an autograd graph.
/// </summary>
[Collection("Torch")]
public sealed class HostInterpolationTests
{
    public static TheoryData<string> DenseSchemes()
    {
        var data = new TheoryData<string>();
        foreach (var scheme in Schemes.All.Where(static s => s.HasDenseOutput))
        {
            data.Add(scheme.Name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(DenseSchemes))]
    public void HostWeights_GiveTheGeneratedInterpolant(string name)
    {
        using var scope = NewDisposeScope();
        var scheme = Schemes.Get(name);
        var (y, step, dt, endSlope) = Step(scheme, ScalarType.Float64);
        var theta = new[] { 0.0, 0.125, 0.3, 0.5, 0.77, 0.9, 1.0 };
        var expected = scheme.Interpolate(y, step, dt, endSlope, tensor(theta, dtype: ScalarType.Float64));
        var host = HostInterpolation.Interpolate(scheme, y, step, dt.data<double>().ToArray(), endSlope, theta);
        Assert.True(host.allclose(expected, rtol: 1e-13, atol: 1e-14), $"{name}: max difference {host.sub(expected).abs().max().item<double>():E2}");

        // A row alone gets the same bits.
        for (var row = 0; row < theta.Length; row++)
        {
            Tensor Row(Tensor x) => x.narrow(0, row, 1).contiguous();
            var sub = new RungeKuttaStep(Row(step.Y), null, null, Row(dt), [.. step.Slopes.Select(Row)]);
            var alone = HostInterpolation.Interpolate(scheme, Row(y), sub, [dt.data<double>()[row]], Row(endSlope), [theta[row]]);
            Assert.True(alone.squeeze(0).eq(host[row]).all().item<bool>(), $"{name}, row {row}");
        }
    }

    [Theory]
    [InlineData("DOPRI5")]
    [InlineData("Tsit5")]
    public void WithAGraph_TheStatesAndGradientsAreTheGeneratedOnes(string name)
    {
        using var scope = NewDisposeScope();
        var scheme = Schemes.Get(name);
        var (y, step, dt, endSlope) = Step(scheme, ScalarType.Float64);
        var theta = new[] { 0.1, 0.4, 0.6, 0.95, 0.5, 0.25, 0.8 };
        var leaves = step.Slopes.Select(static k => k.detach().clone().requires_grad_(true)).ToArray();
        var graphStep = new RungeKuttaStep(step.Y, null, null, dt, leaves);
        var host = HostInterpolation.Interpolate(scheme, y, graphStep, dt.data<double>().ToArray(), endSlope, theta);
        Assert.True(host.requires_grad);
        var weights = randn_like(host);
        host.mul(weights).sum().backward();
        var hostGrads = leaves.Select(static l => l.grad?.clone() ?? zeros_like(l)).ToArray();

        var again = step.Slopes.Select(static k => k.detach().clone().requires_grad_(true)).ToArray();
        var generated = scheme.Interpolate(y, new RungeKuttaStep(step.Y, null, null, dt, again), dt, endSlope, tensor(theta, dtype: ScalarType.Float64));
        Assert.True(host.detach().allclose(generated.detach(), rtol: 1e-13, atol: 1e-14));
        generated.mul(weights).sum().backward();
        for (var i = 0; i < leaves.Length; i++)
        {
            var a = hostGrads[i];
            var b = again[i].grad;
            Assert.True(b is null ? a.abs().max().item<double>() == 0 : a.allclose(b, rtol: 1e-13, atol: 1e-14), $"{name}: stage {i + 1}'s gradient");
        }
    }

    // One step of a nonlinear problem for 7 rows of 3 components, with its dense stages when the scheme has some.
    private static (Tensor Y, RungeKuttaStep Step, Tensor Dt, Tensor EndSlope) Step(RungeKuttaScheme scheme, ScalarType dtype)
    {
        var y = randn(new long[] { 7, 3 }, dtype: dtype, generator: new Generator(21));
        var t = linspace(0.0, 1.0, 7, dtype: dtype);
        var dt = linspace(0.05, 0.2, 7, dtype: dtype);
        Tensor F(Tensor time, Tensor state) => state.sin().mul(time.unsqueeze(1).add(1.0)).sub(state.square().mul(0.1));
        var k1 = F(t, y);
        var step = scheme.Step(F, t, dt, y, k1);
        var dense = scheme.EvaluateDenseStages(F, t, dt, y, step);
        var endSlope = F(t.add(dt), step.Y);
        return (y, dense, dt, endSlope);
    }
}
