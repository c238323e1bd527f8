using NeuralOde.Solving;
using NeuralOde.Tableaux;
using TorchSharp;
using static TorchSharp.torch;

namespace NeuralOde.Tests;

/// <summary>Per-row terminal events: each row stops at its own first crossing, located to the clock's precision.</summary>
[Collection("Torch")]
public sealed class EventTests
{
    private const double Gravity = 9.81;

    // A ball: y = [height, velocity], y' = [velocity, −g].
    private static Tensor Fall(Tensor t, Tensor y) =>
        stack([y[.., 1], full_like(y[.., 1], -Gravity)], 1);

    private static Tensor Balls(params double[] heights) =>
        stack([tensor(heights, dtype: ScalarType.Float64), zeros(heights.Length, dtype: ScalarType.Float64)], 1);

    private static SolverOptions Options(EventFunction events) =>
        SolverOptions.Adaptive(1e-10, 1e-12) with { Event = events };

    private static readonly EventFunction Floor = new((t, y) => y[.., 0], EventDirection.Falling);

    [Theory]
    [InlineData(CompactionMode.Auto)]
    [InlineData(CompactionMode.Never)]
    [InlineData(CompactionMode.Always)]
    public void FallingBalls_EachRowStopsAtItsOwnImpact(CompactionMode compaction)
    {
        using var scope = NewDisposeScope();
        double[] heights = [1.0, 2.0, 5.0, 10.0, 1000.0];
        var solution = Ode.Solve(DormandPrince54.Scheme, Fall, Balls(heights), 0.0, 10.0, Options(Floor) with { Compaction = compaction });
        var statuses = solution.Statuses;
        for (var row = 0; row < 4; row++)
        {
            var impact = Math.Sqrt(2 * heights[row] / Gravity);
            Assert.Equal(SolverStatus.Event, statuses[row]);
            Assert.True(Math.Abs(solution.EventTimes![row].item<double>() - impact) <= 1e-10, $"row {row}: {solution.EventTimes[row].item<double>():R} vs {impact:R}");
            Assert.Equal(solution.EventTimes[row].item<double>(), solution.T[row].item<double>());
            Assert.Equal(0, solution.EventIndices![row].item<long>());
            Assert.True(Math.Abs(solution.Y[row, 0].item<double>()) <= 1e-9, $"row {row} stopped at height {solution.Y[row, 0].item<double>():E2}");
            Assert.True(Math.Abs(solution.Y[row, 1].item<double>() + (Gravity * impact)) <= 1e-9);
        }

        // The ball from 1000 m has not landed by t = 10 (it would at 14.3 s): it finishes normally.
        Assert.Equal(SolverStatus.Success, statuses[4]);
        Assert.True(double.IsNaN(solution.EventTimes![4].item<double>()));
        Assert.Equal(-1, solution.EventIndices![4].item<long>());
        Assert.Equal(10.0, solution.T[4].item<double>());
        Assert.True(solution.Succeeded, "an event is not a failure");
    }

    [Fact]
    public void FallingBalls_MaskedAndCompacted_AreBitIdentical()
    {
        using var scope = NewDisposeScope();
        var y0 = Balls(1.0, 3.0, 7.0, 2000.0);
        var masked = Ode.Solve(DormandPrince54.Scheme, Fall, y0, 0.0, 10.0, Options(Floor) with { Compaction = CompactionMode.Never });
        var compacted = Ode.Solve(DormandPrince54.Scheme, Fall, y0, 0.0, 10.0, Options(Floor) with { Compaction = CompactionMode.Always });
        Assert.True(masked.Y.eq(compacted.Y).all().item<bool>());
        Assert.True(masked.EventTimes!.nan_to_num(-1).eq(compacted.EventTimes!.nan_to_num(-1)).all().item<bool>());
    }

    [Fact]
    public void FallingBalls_EventTimeAndStateAreDifferentiable()
    {
        // t* = sqrt(2h/g): dt*/dh = 1/sqrt(2gh); the impact velocity v* = −g·t*: dv*/dh = −sqrt(g/(2h)).
        using var scope = NewDisposeScope();
        double[] heights = [0.5, 2.0, 8.0];
        var y0 = Balls(heights).requires_grad_(true);
        var solution = Ode.Solve(DormandPrince54.Scheme, Fall, y0, 0.0, 10.0, Options(Floor));
        Assert.True(solution.EventTimes!.requires_grad);
        var timeGrad = autograd.grad([solution.EventTimes.sum()], [y0], retain_graph: true)[0];
        var velocityGrad = autograd.grad([solution.Y[.., 1].sum()], [y0])[0];
        for (var row = 0; row < heights.Length; row++)
        {
            var h = heights[row];
            var expectedTime = 1 / Math.Sqrt(2 * Gravity * h);
            var expectedVelocity = -Math.Sqrt(Gravity / (2 * h));
            Assert.True(Math.Abs(timeGrad[row, 0].item<double>() - expectedTime) <= 1e-8, $"row {row}: dt*/dh {timeGrad[row, 0].item<double>():R} vs {expectedTime:R}");
            Assert.True(Math.Abs(velocityGrad[row, 0].item<double>() - expectedVelocity) <= 1e-8, $"row {row}: dv*/dh {velocityGrad[row, 0].item<double>():R} vs {expectedVelocity:R}");

            // The initial velocity: dt*/dv0 = 1/g at v0 = 0 (t* = (v0 + sqrt(v0² + 2gh))/g).
            Assert.True(Math.Abs(timeGrad[row, 1].item<double>() - (1 / Gravity)) <= 1e-8);
        }
    }

    [Fact]
    public void FallingBalls_EventTimeIsDifferentiableInTheParameters()
    {
        // With gravity a parameter: t* = sqrt(2h/g), dt*/dg = −t*/(2g).
        using var scope = NewDisposeScope();
        var gravity = tensor(Gravity, dtype: ScalarType.Float64).requires_grad_(true);
        double[] heights = [1.0, 4.0];
        var solution = Ode.Solve(
            DormandPrince54.Scheme,
            (t, y) => stack([y[.., 1], gravity.neg().expand(y.shape[0])], 1),
            Balls(heights),
            0.0,
            10.0,
            Options(Floor));
        var gradient = autograd.grad([solution.EventTimes!.sum()], [gravity])[0].item<double>();
        var expected = heights.Sum(h => -Math.Sqrt(2 * h / Gravity) / (2 * Gravity));
        Assert.True(Math.Abs(gradient - expected) <= 1e-8, $"dt*/dg {gradient:R} vs {expected:R}");
    }

    [Fact]
    public void EventAtTheStart_DoesNotFireThere()
    {
        // A ball thrown up from the floor (g = 0 at t0) lands again at 2v/g: only that crossing counts.
        using var scope = NewDisposeScope();
        var y0 = tensor(new[,] { { 0.0, 1.0 } }, dtype: ScalarType.Float64);
        var solution = Ode.Solve(DormandPrince54.Scheme, Fall, y0, 0.0, 1.0, Options(Floor));
        Assert.Equal(SolverStatus.Event, solution.Statuses[0]);
        Assert.True(Math.Abs(solution.EventTimes![0].item<double>() - (2 / Gravity)) <= 1e-10);
    }

    [Fact]
    public void SeveralEvents_TheFirstToFireStopsTheRow()
    {
        using var scope = NewDisposeScope();
        var events = new EventFunction((t, y) => stack([y[.., 0], y[.., 0].sub(0.5)], 1), EventDirection.Falling);
        var solution = Ode.Solve(DormandPrince54.Scheme, Fall, Balls(2.0), 0.0, 10.0, Options(events));
        Assert.Equal(1, solution.EventIndices![0].item<long>());
        Assert.True(Math.Abs(solution.EventTimes![0].item<double>() - Math.Sqrt(2 * 1.5 / Gravity)) <= 1e-10);
    }

    [Fact]
    public void Directions_RisingIgnoresFallingCrossings()
    {
        using var scope = NewDisposeScope();
        var rising = new EventFunction((t, y) => y[.., 0], EventDirection.Rising);
        var solution = Ode.Solve(DormandPrince54.Scheme, Fall, Balls(2.0), 0.0, 1.0, Options(rising));
        Assert.Equal(SolverStatus.Success, solution.Statuses[0]);
        var either = Ode.Solve(DormandPrince54.Scheme, Fall, Balls(2.0), 0.0, 1.0, Options(new EventFunction((t, y) => y[.., 0])));
        Assert.Equal(SolverStatus.Event, either.Statuses[0]);
    }

    [Fact]
    public void BackwardsInTime_StopsAtTheCrossingInIntegrationOrder()
    {
        using var scope = NewDisposeScope();
        var solution = Ode.Solve(DormandPrince54.Scheme, Fall, Balls(5.0), 0.0, -10.0, Options(Floor));
        Assert.Equal(SolverStatus.Event, solution.Statuses[0]);
        Assert.True(Math.Abs(solution.EventTimes![0].item<double>() + Math.Sqrt(2 * 5.0 / Gravity)) <= 1e-10);
    }

    [Fact]
    public void OutputTimes_AfterTheEvent_StayNaN()
    {
        using var scope = NewDisposeScope();
        var times = linspace(0.0, 1.0, 11, dtype: ScalarType.Float64);
        var solution = Ode.Solve(DormandPrince54.Scheme, Fall, Balls(2.0), 0.0, 1.0, Options(Floor) with { OutputTimes = times });
        var impact = Math.Sqrt(2 * 2.0 / Gravity); // 0.6386
        for (var j = 0; j < 11; j++)
        {
            var tau = j / 10.0;
            var height = solution.Ys![0, j, 0].item<double>();
            if (tau < impact)
            {
                Assert.True(Math.Abs(height - (2.0 - (Gravity * tau * tau / 2))) <= 1e-9, $"output {j}");
            }
            else
            {
                Assert.True(double.IsNaN(height), $"output {j} after the event must stay NaN");
            }
        }
    }

    [Fact]
    public void Trajectory_AfterTheEvent_StaysNaN()
    {
        // DOPRI5's own dense output: the outputs of the event's step after the event are not written either.
        using var scope = NewDisposeScope();
        var block = new NeuralOde.Modules.OdeBlock(new Falling(), DormandPrince54.Scheme, Options(Floor));
        var times = linspace(0.0, 1.0, 11, dtype: ScalarType.Float64);
        using var noGrad = no_grad();
        var trajectory = block.Trajectory(Balls(2.0), times);
        var impact = Math.Sqrt(2 * 2.0 / Gravity);
        for (var j = 0; j < 11; j++)
        {
            var height = trajectory[0, j, 0].item<double>();
            Assert.True(j / 10.0 < impact ? Math.Abs(height - (2.0 - (Gravity * j * j / 200.0))) <= 1e-9 : double.IsNaN(height), $"output {j}: {height}");
        }
    }

    private sealed class Falling : NeuralOde.Modules.OdeFunc
    {
        public Falling()
            : base(nameof(Falling))
        {
        }

        public override Tensor forward(Tensor t, Tensor y) => Fall(t, y);
    }

    [Fact]
    public void EventFunction_OfTheWrongShape_IsAClearError()
    {
        using var scope = NewDisposeScope();
        var wrong = new EventFunction((t, y) => y.sum());
        var error = Assert.Throws<InvalidOperationException>(() => Ode.Solve(DormandPrince54.Scheme, Fall, Balls(1.0, 2.0), 0.0, 1.0, Options(wrong)));
        Assert.Contains("must return floating point [B] or [B, E]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EventFunction_NotFinite_MarksTheRowNonFinite()
    {
        using var scope = NewDisposeScope();
        var events = new EventFunction((t, y, rows) => y[.., 0].masked_fill(rows.eq(1).logical_and(t.gt(0.2)), double.NaN), EventDirection.Falling);
        var solution = Ode.Solve(DormandPrince54.Scheme, (t, y, _) => Fall(t, y), Balls(10.0, 10.0), 0.0, 1.0, Options(events));
        Assert.Equal([SolverStatus.Success, SolverStatus.NonFinite], solution.Statuses);
    }
}
