using NeuralOde.Modules;
using NeuralOde.Solving;
using static TorchSharp.torch;

namespace NeuralOde.Tests;

/// <summary>The adjoint's backward solve starting from the forward solve's step proposals
/// (<see cref="AdjointOptions.FirstStepFromForward"/>).</summary>
public sealed partial class GradientTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Adjoint_FirstStepFromForward_TakesFewerBackwardCalls_AtTheSameAccuracy(bool outputTimes)
    {
        using var scope = NewDisposeScope();
        var (reference, y0) = Problem(GradientMode.Backprop, SolverOptions.Adaptive(1e-12, 1e-13), rows: 8);
        if (outputTimes)
        {
            reference.OutputTimes = [0.0, 0.4, 1.0];
        }

        var x = y0.clone().requires_grad_(true);
        reference.forward(x).pow(3).sum().backward();
        var exact = reference.parameters().Select(static p => p.grad!.clone()).Append(x.grad!.clone()).ToArray();

        var results = new Dictionary<bool, (long Calls, double Error)>();
        foreach (var seeded in new[] { true, false })
        {
            var (block, _) = Problem(GradientMode.Adjoint, SolverOptions.Adaptive(1e-6, 1e-8), rows: 8);
            block.Adjoint = new AdjointOptions { FirstStepFromForward = seeded };
            if (outputTimes)
            {
                block.OutputTimes = [0.0, 0.4, 1.0];
            }

            var xa = y0.clone().requires_grad_(true);
            block.forward(xa).pow(3).sum().backward();
            var grads = block.parameters().Select(static p => p.grad!).Append(xa.grad!);
            results[seeded] = (block.LastBackward.Calls, grads.Zip(exact).Max(ge => RelativeError(ge.First, ge.Second)));
        }

        // Every segment saves at least the estimate's probe evaluation.
        var segments = outputTimes ? 2 : 1;
        Assert.True(results[true].Calls <= results[false].Calls - segments, $"seeded {results[true].Calls} vs estimated {results[false].Calls} backward calls");

        // Both gradients are as accurate as the tolerance asks (rtol 1e-6 on the state and adjoint).
        Assert.True(results[true].Error < 2e-5 && results[false].Error < 2e-5, $"relative errors: seeded {results[true].Error:E2}, estimated {results[false].Error:E2}");
    }
}
