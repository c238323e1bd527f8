using NeuralOde.Modules;
using NeuralOde.Solving;
using TorchSharp;
using static TorchSharp.torch;

namespace NeuralOde.Tests;

/// <summary>Checkpointed gradients: Backprop's gradient (same steps, same arithmetic) without its graph.</summary>
public sealed partial class GradientTests
{
    // Gradients of the loss with respect to y0 and every parameter, flattened into one vector.
    private static Tensor Gradient(OdeBlock block, Tensor y0)
    {
        var parameters = block.parameters().ToArray();
        foreach (var p in parameters)
        {
            p.grad?.zero_();
        }

        var x = y0.clone().requires_grad_(true);
        Loss(block.forward(x)).backward();
        return cat([x.grad!.flatten(), .. parameters.Select(static p => p.grad!.flatten())]);
    }

    [Theory]
    [InlineData(CompactionMode.Auto)]
    [InlineData(CompactionMode.Never)]
    [InlineData(CompactionMode.Always)]
    public void Checkpointed_AdaptiveWithRejectedSteps_EqualsBackprop(CompactionMode compaction)
    {
        using var scope = NewDisposeScope();

        // Rows at very different scales take different steps and finish at different times; a loose first step
        // forces rejections.
        var options = SolverOptions.Adaptive(1e-8, 1e-10) with { Compaction = compaction, InitialStep = 0.5 };
        var (block, y0) = Problem(GradientMode.Backprop, options, rows: 6);
        y0 = y0.mul(tensor(new[] { 0.1, 0.5, 1.0, 2.0, 4.0, 8.0 }, dtype: ScalarType.Float64).unsqueeze(1));
        var backprop = Gradient(block, y0);
        var forwardBackprop = block.LastForward;
        block.GradientMode = GradientMode.Checkpointed;
        var checkpointed = Gradient(block, y0);
        Assert.Equal(forwardBackprop.Calls, block.LastForward.Calls);
        Assert.True(block.LastForward.MaxRejectedSteps > 0, "the case should have rejected steps");
        Assert.True(block.LastBackward.Calls > 0);

        var relative = checkpointed.sub(backprop).abs().max().item<double>() / backprop.abs().max().item<double>();
        Assert.True(relative <= 1e-12, $"checkpointed vs backprop: {relative:E2} relative");
    }

    [Theory]
    [InlineData(2)]
    [InlineData(5)]
    [InlineData(1000)]
    public void Checkpointed_WithABudget_EqualsBackprop(int every)
    {
        using var scope = NewDisposeScope();
        var options = SolverOptions.Adaptive(1e-8, 1e-10) with { InitialStep = 0.5 };
        var (block, y0) = Problem(GradientMode.Backprop, options, rows: 6);
        y0 = y0.mul(tensor(new[] { 0.1, 0.5, 1.0, 2.0, 4.0, 8.0 }, dtype: ScalarType.Float64).unsqueeze(1));
        var backprop = Gradient(block, y0);
        block.GradientMode = GradientMode.Checkpointed;
        block.CheckpointEvery = every;
        var checkpointed = Gradient(block, y0);
        var relative = checkpointed.sub(backprop).abs().max().item<double>() / backprop.abs().max().item<double>();
        Assert.True(relative <= 1e-12, $"every {every}: checkpointed vs backprop {relative:E2} relative");
        Assert.Throws<ArgumentOutOfRangeException>(() => block.CheckpointEvery = 0);
    }

    [Fact]
    public void CheckpointedAndAdjoint_WithEvents_SayTheyAreNotSupported()
    {
        using var scope = NewDisposeScope();
        var events = new EventFunction((t, y) => y[.., 0]);
        foreach (var mode in new[] { GradientMode.Checkpointed, GradientMode.Adjoint })
        {
            var (block, y0) = Problem(mode, SolverOptions.Adaptive(1e-6, 1e-8) with { Event = events });
            Assert.Throws<NotSupportedException>(() => block.forward(y0.requires_grad_(true)));
        }
    }

    [Fact]
    public void Checkpointed_FixedSteps_MatchesFiniteDifferences()
    {
        using var scope = NewDisposeScope();
        var (block, y0) = Problem(GradientMode.Checkpointed, SolverOptions.FixedSteps(20));
        AssertMatchesFiniteDifferences(block, y0, 1e-7);
    }

    [Fact]
    public void Checkpointed_WithoutGrad_IsAPlainSolve()
    {
        using var scope = NewDisposeScope();
        var (block, y0) = Problem(GradientMode.Checkpointed, SolverOptions.Adaptive(1e-6, 1e-8));
        using var noGrad = no_grad();
        var y = block.forward(y0);
        block.GradientMode = GradientMode.Backprop;
        Assert.True(y.eq(block.forward(y0)).all().item<bool>());
    }
}
