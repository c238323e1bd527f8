using NeuralOde.Solving;
using NeuralOde.Stepping;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace NeuralOde.Tests;

/// <summary>
/// Every adaptive built-in scheme's own dense output: the interpolant has its declared order inside a step, and at a
/// tight tolerance the states at output times are as accurate as the state at t1.
/// </summary>
[Collection("Torch")]
public sealed class DenseOutputTests(ITestOutputHelper output)
{
    /// <summary>The tolerance of the adaptive solves (rtol = atol), tight for each order: 1e-10 from order 3 on, 1e-7
    /// for the second-order HeunEuler (at 1e-10 it takes 10⁵–10⁶ steps, minutes per problem).</summary>
    private static double ToleranceFor(RungeKuttaScheme scheme) => scheme.Order <= 2 ? 1e-7 : 1e-10;

    /// <summary>How much larger the worst error at the output times may be than the error at t1.</summary>
    private const double AllowedRatio = 3.0;

    /// <summary>A problem with a known solution: dynamics, start, span and the exact state at any time.</summary>
    private sealed record Problem(string Name, Func<Tensor, Tensor, Tensor> Dynamics, double[] Start, double T1, Func<double, double[]> Exact);

    // Problems whose error does not shrink towards t1, so that the error at t1 is a fair yardstick:
    //   decay: y' = −y on [0, 2], y = e^{−t};
    //   oscillator: y'' = −y on [0, 10], y = (cos t, −sin t);
    //   tangent: y' = 1 + y² on [0, 1.2], y = tan t (nonlinear; every elementary differential enters).
    private static readonly Problem[] Problems =
    [
        new("decay", static (t, y) => y.neg(), [1.0], 2.0, static t => [Math.Exp(-t)]),
        new("oscillator", static (t, y) => cat([y[.., 1..2], y[.., 0..1].neg()], 1), [1.0, 0.0], 10.0, static t => [Math.Cos(t), -Math.Sin(t)]),
        new("tangent", static (t, y) => y.square().add_(1.0), [0.0], 1.2, static t => [Math.Tan(t)]),
    ];

    public static TheoryData<string, string> AdaptiveSchemesAndProblems()
    {
        var data = new TheoryData<string, string>();
        foreach (var scheme in TestSchemes.BuiltIn.Where(static s => s.HasErrorEstimate))
        {
            foreach (var problem in Problems)
            {
                data.Add(scheme.Name, problem.Name);
            }
        }

        return data;
    }

    [Fact]
    public void EveryAdaptiveBuiltIn_DeclaresDenseOutput()
    {
        foreach (var scheme in TestSchemes.BuiltIn.Where(static s => s.HasErrorEstimate))
        {
            Assert.True(scheme.HasDenseOutput, $"{scheme.Name} has no dense output of its own.");
            Assert.NotNull(scheme.DenseOrder);
            Assert.InRange(scheme.DenseOrder!.Value, scheme.Order - 2, scheme.Order);
        }
    }

    /// <summary>
    /// One step from the exact state, with states asked for at θ = 0.3, 0.5 and 0.7 of it: the error of an interpolant
    /// of order q is O(h^{q+1}) (the step's own error is smaller, O(h^{p+1}) with p ≥ q). Float64, fixed steps, on the
    /// nonlinear tangent problem, whose elementary differentials are all nonzero.
    /// </summary>
    [Theory]
    [MemberData(nameof(TestSchemes.Adaptive), MemberType = typeof(TestSchemes))]
    public void Interpolant_ObservedLocalOrder_IsDenseOrderPlusOne(string name)
    {
        var scheme = Schemes.Get(name);
        const double T0 = 0.4;
        double[] thetas = [0.3, 0.5, 0.7];
        double[] steps = [0.2, 0.1, 0.05, 0.025];
        var errors = new List<double>();
        foreach (var h in steps)
        {
            using var scope = NewDisposeScope();
            var y0 = tensor(new[,] { { Math.Tan(T0) } }, dtype: ScalarType.Float64);
            var times = tensor(thetas.Select(theta => T0 + (theta * h)).ToArray(), dtype: ScalarType.Float64);
            var solution = Ode.Solve(scheme, static (t, y) => y.square().add_(1.0), y0, T0, T0 + h,
                SolverOptions.FixedSteps(1) with { OutputTimes = times });
            Assert.True(solution.Succeeded);
            errors.Add(thetas.Select((theta, j) => Math.Abs(solution.Ys![0, j, 0].item<double>() - Math.Tan(T0 + (theta * h)))).Max());
        }

        var slope = ConvergenceOrderTests.FitSlope([.. steps.Select(static h => Math.Log(h))], [.. errors.Select(static e => Math.Log(e))]);
        var expected = scheme.DenseOrder!.Value + 1;
        output.WriteLine($"{name}: dense order {scheme.DenseOrder}, observed local order {slope:F2}; errors {string.Join(", ", errors.Select(static e => e.ToString("E2")))}");
        Assert.True(slope >= expected - 0.2, $"{name}: observed local order of the dense output {slope:F2}, expected {expected}; errors {string.Join(", ", errors.Select(static e => e.ToString("E2")))}");
    }

    /// <summary>
    /// At a tight tolerance the worst error at 25 output times spread over the span (none on a step's end by design)
    /// is at most 3× the error at t1.
    /// </summary>
    [Theory]
    [MemberData(nameof(AdaptiveSchemesAndProblems))]
    public void Adaptive_ErrorAtOutputTimes_IsWithinThreeTimesTheErrorAtT1(string name, string problemName) =>
        AssertOutputsAsAccurateAsT1(name, problemName);

    /// <summary>
    /// A dense output with an extra stage (DOPRI5's and Tsit5's) evaluates it only in a step that holds an output time,
    /// once however many outputs fall in that step: one interior output, or three within 10⁻⁷ of each other, cost one
    /// evaluation more than the same solve without outputs, whose steps and final state they leave bit for bit; an
    /// output at t1 (a step's end, which is the step's own state) costs none.
    /// </summary>
    [Theory]
    [InlineData("DOPRI5")]
    [InlineData("Tsit5")]
    public void DenseStage_IsEvaluatedOnceInEachStepThatHoldsAnOutput(string name)
    {
        using var scope = NewDisposeScope();
        var scheme = Schemes.Get(name);
        Assert.Equal(1, scheme.DenseStages);
        var y0 = tensor(new[,] { { 0.0 } }, dtype: ScalarType.Float64);
        static Tensor Tangent(Tensor t, Tensor y) => y.square().add_(1.0);
        var options = SolverOptions.Adaptive(1e-8, 1e-8);
        var plain = Ode.Solve(scheme, Tangent, y0, 0.0, 1.2, options);
        foreach (double[] times in new[] { new[] { 0.444 }, [0.444, 0.4440001, 0.4440002], [1.2] })
        {
            var extra = times[^1] == 1.2 ? 0 : 1;
            var sampled = Ode.Solve(scheme, Tangent, y0, 0.0, 1.2, options with { OutputTimes = tensor(times, dtype: ScalarType.Float64) });
            Assert.True(sampled.Succeeded);
            Assert.Equal(plain.Stats.AcceptedSteps[0].item<long>(), sampled.Stats.AcceptedSteps[0].item<long>());
            Assert.Equal(plain.Stats.RejectedSteps[0].item<long>(), sampled.Stats.RejectedSteps[0].item<long>());
            Assert.Equal(plain.Y[0, 0].item<double>(), sampled.Y[0, 0].item<double>());
            Assert.Equal(plain.Stats.FunctionEvaluations[0].item<long>() + extra, sampled.Stats.FunctionEvaluations[0].item<long>());
            Assert.Equal(plain.Stats.Calls + extra, sampled.Stats.Calls);
            for (var j = 0; j < times.Length; j++)
            {
                Assert.True(Math.Abs(sampled.Ys![0, j, 0].item<double>() - Math.Tan(times[j])) < 1e-7, $"{name} at t = {times[j]}");
            }
        }
    }

    private void AssertOutputsAsAccurateAsT1(string name, string problemName)
    {
        using var scope = NewDisposeScope();
        var problem = Problems.Single(p => p.Name == problemName);
        const int Outputs = 25;
        var times = Enumerable.Range(0, Outputs).Select(i => problem.T1 * (i + 0.5) / Outputs).Append(problem.T1).ToArray();
        var y0 = tensor(problem.Start, dtype: ScalarType.Float64).unsqueeze(0);
        var scheme = Schemes.Get(name);
        var tolerance = ToleranceFor(scheme);
        var solution = Ode.Solve(scheme, problem.Dynamics, y0, 0.0, problem.T1,
            SolverOptions.Adaptive(tolerance, tolerance) with { OutputTimes = tensor(times, dtype: ScalarType.Float64), MaxSteps = 1_000_000 });
        Assert.True(solution.Succeeded);

        double ErrorAt(int j)
        {
            var exact = problem.Exact(times[j]);
            return exact.Select((value, d) => Math.Abs(solution.Ys![0, j, d].item<double>() - value)).Max();
        }

        var atT1 = ErrorAt(Outputs);
        var worst = Enumerable.Range(0, Outputs).Select(ErrorAt).Max();
        var ratio = worst / atT1;
        output.WriteLine($"{name} on {problemName}: worst output error {worst:E2}, error at t1 {atT1:E2}, ratio {ratio:F2}");
        Assert.True(atT1 > 0, $"{name} on {problemName}: the error at t1 is exactly 0, so the ratio means nothing.");
        Assert.True(
            ratio <= AllowedRatio,
            $"{name} on {problemName}: the worst error at the output times, {worst:E2}, is {ratio:F2}× the error at t1, {atT1:E2} (allowed {AllowedRatio}×).");
    }
}
