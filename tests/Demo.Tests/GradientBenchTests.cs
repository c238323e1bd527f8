using NeuralOde.Demo.Bench;
using NeuralOde.Modules;
using NeuralOde.Solving;
using static TorchSharp.torch;

namespace NeuralOde.Demo.Tests;

/// <summary>Parameter gradients on the shared MLP problem match the reference files (PROBLEMS.md's loss).</summary>
[Collection("Torch")]
public sealed class GradientBenchTests
{
    [Theory]
    [InlineData(GradientMode.Backprop)]
    [InlineData(GradientMode.Adjoint)]
    [InlineData(GradientMode.Checkpointed)]
    public void MlpProblem_TightTolerances_ParameterGradientsMatchReference(GradientMode mode)
    {
        using var problem = BenchData.LoadProblem(BenchFolder.Path, "mlp_d64_h64_b1024");
        var result = GradientBench.Run(problem, Schemes.Get("DOPRI5"), mode, SolverOptions.Adaptive(1e-10, 1e-10), ScalarType.Float64, repeats: 0);

        // The reference is torchdiffeq's adjoint at rtol = atol = 1e-12 in float64.
        Assert.True(result.GradientError <= 1e-6, $"{mode}: relative L2 error of dL/dθ {result.GradientError:E2}");
        Assert.True(result.ForwardNfe > 0);
        if (mode != GradientMode.Backprop)
        {
            Assert.True(result.BackwardNfe > 0, "the adjoint and the checkpointed replay evaluate the dynamics backwards");
        }
        else
        {
            Assert.Equal(0, result.BackwardNfe);
        }
    }

    [Fact]
    public void MlpProblem_LooserTolerance_GradientErrorGrowsButStaysConsistent()
    {
        using var problem = BenchData.LoadProblem(BenchFolder.Path, "mlp_d64_h64_b1024");
        var tight = GradientBench.Run(problem, Schemes.Get("DOPRI5"), GradientMode.Adjoint, SolverOptions.Adaptive(1e-8, 1e-8), ScalarType.Float64, repeats: 0);
        var loose = GradientBench.Run(problem, Schemes.Get("DOPRI5"), GradientMode.Adjoint, SolverOptions.Adaptive(1e-4, 1e-4), ScalarType.Float64, repeats: 0);

        // A real comparison: the error follows the tolerance, so the check could fail.
        Assert.True(loose.GradientError > tight.GradientError, $"loose {loose.GradientError:E2} vs tight {tight.GradientError:E2}");
        Assert.True(loose.GradientError < 1e-2);
        Assert.True(loose.BackwardNfe < tight.BackwardNfe);
    }

    [Fact]
    public void MlpProblem_LongerSpan_ReportsStepsAndNoReferenceError()
    {
        using var problem = BenchData.LoadProblem(BenchFolder.Path, "mlp_d64_h64_b1024");
        var scheme = Schemes.Get("DOPRI5");
        var options = SolverOptions.Adaptive(1e-6, 1e-8);
        var standard = GradientBench.Run(problem, scheme, GradientMode.Checkpointed, options, ScalarType.Float32, repeats: 0);
        var longer = GradientBench.Run(problem, scheme, GradientMode.Checkpointed, options, ScalarType.Float32, repeats: 0, t1: 4 * problem.Header.T1);
        Assert.True(longer.AcceptedSteps > standard.AcceptedSteps);
        Assert.Equal(4 * problem.Header.T1, longer.T1);
        Assert.True(double.IsNaN(longer.GradientError), "the reference gradient is for the problem's own span");
        Assert.False(double.IsNaN(standard.GradientError));
    }
}
