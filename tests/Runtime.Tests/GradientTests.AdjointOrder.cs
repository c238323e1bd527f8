using NeuralOde.Modules;
using NeuralOde.Solving;
using static TorchSharp.torch;

namespace NeuralOde.Tests;

/// <summary>The adjoint's parameter gradient converges at the scheme's order: its quadrature is taken at the step's own
/// stage states and times, and a wrong one (a neighbouring stage's state, the step's start for every stage) drops the
/// order to 1 or 2.</summary>
public sealed partial class GradientTests
{
    [Theory]
    [InlineData("RK4", 4)]
    [InlineData("DOPRI5", 5)]
    [InlineData("BS32", 3)]
    [InlineData("Midpoint", 2)]
    public void Adjoint_ParameterGradient_ConvergesAtTheSchemesOrder(string scheme, int order)
    {
        using var scope = NewDisposeScope();
        const double Theta = 0.9;
        var y0 = randn(3, 2, dtype: ScalarType.Float64, generator: new Generator(2));

        // L = 0.5·mean(y(1)²) with y(1) = y0·exp(θ·sin 1): dL/dθ = sin 1 · mean(y(1)²).
        var exact = y0.mul(Math.Exp(Theta * Math.Sin(1))).square().mean().item<double>() * Math.Sin(1);
        double Error(int steps)
        {
            var dynamics = new CosineRateDynamics(Theta);
            var block = new OdeBlock(dynamics, Schemes.Get(scheme), SolverOptions.FixedSteps(steps), 0.0, 1.0, GradientMode.Adjoint);
            Loss(block.forward(y0)).backward();
            return Math.Abs(dynamics.parameters().Single().grad!.item<double>() - exact);
        }

        var coarse = Error(4);
        var fine = Error(8);
        var measured = Math.Log2(coarse / fine);
        Assert.True(measured > order - 0.5, $"{scheme}: the parameter gradient's error fell by 2^{measured:F2} from 4 to 8 steps ({coarse:E2} → {fine:E2}), expected about 2^{order}");
    }
}
