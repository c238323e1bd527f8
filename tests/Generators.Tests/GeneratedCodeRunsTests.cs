using System.Reflection;
using NeuralOde.Generators.Tests.Infrastructure;
using NeuralOde.Stepping;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace NeuralOde.Generators.Tests;

/// <summary>
/// The generated <c>Step</c> and <c>Interpolate</c> compute what the tableau says. The output compilation is loaded
/// and run on small float64 batches against a plain double-precision Runge–Kutta step that reads the coefficients
/// from the generated <c>Tableau</c> metadata; this covers the shortcuts the emitter takes (coefficients of ±1, a
/// dense-output polynomial that starts from θᵏ itself) and checks that no input tensor is changed in place.
/// </summary>
public sealed class GeneratedCodeRunsTests
{
    private const double Tolerance = 1e-12;

    [Fact]
    public void EveryBuiltIn_StepsAndInterpolates()
    {
        var names = RepoPaths.BuiltInTableauNames;
        var schemes = Load(GeneratorHarness.Run(names.Select(RepoPaths.ReadBuiltInTableauCopy)), names.Select(static n => $"NeuralOde.Tableaux.Copies.{n}"));

        Assert.Equal(names.Count, schemes.Count);
        foreach (var scheme in schemes)
        {
            AssertStepsAndInterpolates(scheme);
        }
    }

    [Theory]
    [InlineData("DenseOutput", "Consumer.Schemes.BogackiShampineDense")]
    [InlineData("ZeroCoefficients", "Consumer.Schemes.Heun32")]
    [InlineData("NoBHat", "Consumer.Schemes.ClassicRk4")]
    public void EdgeCase_StepsAndInterpolates(string edgeCase, string typeName) =>
        AssertStepsAndInterpolates(Assert.Single(Load(GeneratorHarness.Run(TestTableaux.EdgeCases[edgeCase]), [typeName])));

    private static List<RungeKuttaScheme> Load(GeneratorRun run, IEnumerable<string> typeNames)
    {
        run.AssertGeneratorDidNotThrow();
        using var image = new MemoryStream();
        var emitted = run.OutputCompilation.Emit(image);
        Assert.True(emitted.Success, string.Join("\n", emitted.Diagnostics.Select(GeneratorHarness.Format)));

        // Each Assembly.Load(byte[]) gets a load context of its own; NeuralOde and TorchSharp resolve to the loaded ones.
        var assembly = Assembly.Load(image.ToArray());
        return
        [
            .. typeNames.Select(name =>
            {
                var method = assembly.GetType(name + "+Method", throwOnError: true)!;
                return (RungeKuttaScheme)method.GetProperty("Instance", BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;
            }),
        ];
    }

    /// <summary>Non-autonomous, so that wrong stage times show: f(t, y) = (1 + t)·y + t².</summary>
    private static Tensor Dynamics(Tensor t, Tensor y)
    {
        var column = t.view(-1, 1);
        return y.mul(column.add(1.0)).add(column.mul(column));
    }

    private static double Dynamics(double t, double y) => ((1 + t) * y) + (t * t);

    private static void AssertStepsAndInterpolates(RungeKuttaScheme scheme)
    {
        using var scope = NewDisposeScope();
        double[] t0 = [0.0, 0.25, -0.5];
        double[] dt0 = [0.1, 0.05, 0.2];
        double[,] y0 = { { 1.0, -2.0 }, { 0.5, 3.0 }, { -1.5, 0.25 } };
        var t = tensor(t0, float64);
        var dt = tensor(dt0, float64);
        var y = tensor(y0, float64);
        var inputs = new[] { t, dt, y }.Select(static x => x.clone()).ToArray();

        using var step = scheme.Step(Dynamics, t, dt, y, Dynamics(t, y));

        var tableau = scheme.Tableau;
        var stages = tableau.Stages;
        for (var row = 0; row < t0.Length; row++)
        {
            for (var d = 0; d < 2; d++)
            {
                var (y1, error, scaled) = ReferenceStep(tableau, t0[row], dt0[row], y0[row, d]);
                var where = $"{scheme.Name}, row {row}, component {d}";
                AssertClose(y1, step.Y[row, d].ToDouble(), $"y1 of {where}");
                if (step.Error is { } estimate)
                {
                    AssertClose(error, estimate[row, d].ToDouble(), $"error of {where}");
                }

                for (var i = 0; i < stages; i++)
                {
                    AssertClose(scaled[i], step.ScaledStages[i][row, d].ToDouble(), $"h·k{i + 1} of {where}");
                }

                if (step.EndSlope is { } endSlope)
                {
                    AssertClose(Dynamics(t0[row] + dt0[row], y1), endSlope[row, d].ToDouble(), $"end slope of {where}");
                }
            }
        }

        Assert.Equal(tableau.BHat is not null, step.Error is not null);
        if (tableau.BTheta is { } dense)
        {
            double[] thetas = [0.0, 0.375, 1.0];
            var theta = tensor(thetas, float64);
            var stagesBefore = step.ScaledStages.Select(static s => s.clone()).ToList();
            var thetaBefore = theta.clone();

            var interpolated = scheme.Interpolate(y, step, theta);

            for (var row = 0; row < thetas.Length; row++)
            {
                for (var d = 0; d < 2; d++)
                {
                    var expected = y0[row, d];
                    for (var i = 0; i < stages; i++)
                    {
                        var weight = dense[i].Select((c, k) => c.Value * Math.Pow(thetas[row], k + 1)).Sum();
                        expected += weight * step.ScaledStages[i][row, d].ToDouble();
                    }

                    AssertClose(expected, interpolated[row, d].ToDouble(), $"{scheme.Name} at θ = {thetas[row]}, row {row}, component {d}");
                }
            }

            Assert.True(theta.equal(thetaBefore).all().item<bool>(), $"{scheme.Name}.Interpolate changed θ in place.");
            for (var i = 0; i < stages; i++)
            {
                Assert.True(step.ScaledStages[i].equal(stagesBefore[i]).all().item<bool>(), $"{scheme.Name}.Interpolate changed h·k{i + 1} in place.");
            }
        }

        Assert.True(t.equal(inputs[0]).all().item<bool>(), $"{scheme.Name}.Step changed t in place.");
        Assert.True(dt.equal(inputs[1]).all().item<bool>(), $"{scheme.Name}.Step changed dt in place.");
        Assert.True(y.equal(inputs[2]).all().item<bool>(), $"{scheme.Name}.Step changed y in place.");
    }

    /// <summary>One scalar step of the tableau: y₁, the error estimate h·Σ(bᵢ − b̂ᵢ)kᵢ and the scaled stages h·kᵢ.</summary>
    private static (double Y1, double Error, double[] Scaled) ReferenceStep(ButcherTableau tableau, double t, double h, double y)
    {
        var stages = tableau.Stages;
        var scaled = new double[stages];
        for (var i = 0; i < stages; i++)
        {
            var input = y;
            for (var j = 0; j < tableau.A[i].Count; j++)
            {
                input += tableau.A[i][j].Value * scaled[j];
            }

            scaled[i] = h * Dynamics(t + (tableau.C[i].Value * h), input);
        }

        var y1 = y;
        var error = 0.0;
        for (var i = 0; i < stages; i++)
        {
            y1 += tableau.B[i].Value * scaled[i];
            error += (tableau.B[i].Value - (tableau.BHat?[i].Value ?? 0)) * scaled[i];
        }

        return (y1, error, scaled);
    }

    private static void AssertClose(double expected, double actual, string what) =>
        Assert.True(
            Math.Abs(expected - actual) <= Tolerance * Math.Max(1, Math.Abs(expected)),
            $"{what}: expected {expected:R}, got {actual:R}");
}
