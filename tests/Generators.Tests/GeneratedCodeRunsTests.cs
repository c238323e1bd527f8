using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using NeuralOde.Generators.Tests.Infrastructure;
using NeuralOde.Stepping;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace NeuralOde.Generators.Tests;

/// <summary>
/// The generated <c>Step</c> and <c>Interpolate</c> compute what the declaration says. The output compilation is
/// loaded and run on small float64 batches against a plain double-precision Runge–Kutta step whose coefficients come
/// from the declaration's own source text (<see cref="SourceTableau"/>: the file's syntax, evaluated exactly by the
/// test, never by the generator), so that a coefficient the emitter writes wrongly fails the test: in the step, in the
/// error estimate, in the dense output and in the <c>Tableau</c> metadata alike (the metadata reuses the emitted
/// constants, so a reference built from it would agree with a wrong constant). This covers the shortcuts the emitter
/// takes (coefficients of ±1, a dense-output polynomial that starts from θᵏ itself) and checks that no input tensor
/// is changed in place.
/// </summary>
public sealed class GeneratedCodeRunsTests
{
    /// <summary>
    /// Relative to max(1, |expected|): the generated step and the scalar reference round differently (fused or
    /// reordered operations), by at most 3.6·10⁻¹⁶ over every built-in and edge case (largest: Tsit5's end slope).
    /// Tsit5's a₅₃ emitted one part in 10¹⁰ off moves y₁ by 2.9·10⁻¹¹; the metadata check catches any constant more
    /// than one unit in the last place off.
    /// </summary>
    private const double Tolerance = 2e-15;

    [Fact]
    public void EveryBuiltIn_StepsAndInterpolates()
    {
        var names = RepoPaths.BuiltInTableauNames;
        var files = names.Select(RepoPaths.ReadBuiltInTableauCopy).ToList();
        var schemes = Load(GeneratorHarness.Run(files), names.Select(static n => $"NeuralOde.Tableaux.Copies.{n}"));

        Assert.Equal(names.Count, schemes.Count);
        for (var i = 0; i < names.Count; i++)
        {
            AssertStepsAndInterpolates(schemes[i], SourceTableau.Read(files[i].Text, names[i]));
        }
    }

    [Theory]
    [InlineData("DenseOutput", "Consumer.Schemes.BogackiShampineDense")]
    [InlineData("ZeroCoefficients", "Consumer.Schemes.Heun32")]
    [InlineData("NoBHat", "Consumer.Schemes.ClassicRk4")]
    public void EdgeCase_StepsAndInterpolates(string edgeCase, string typeName)
    {
        var source = TestTableaux.EdgeCases[edgeCase];
        var scheme = Assert.Single(Load(GeneratorHarness.Run(source), [typeName]));

        AssertStepsAndInterpolates(scheme, SourceTableau.Read(source, typeName[(typeName.LastIndexOf('.') + 1)..]));
    }

    /// <summary>
    /// The reference evaluator reads each built-in declaration as the C# compiler does: its coefficients equal the
    /// values of the compiled fields (read by reflection from NeuralOde.dll) to the last place.
    /// </summary>
    [Fact]
    public void SourceTableau_AgreesWithTheCompiledDeclarations()
    {
        var runtime = typeof(NeuralOde.Schemes).Assembly;
        foreach (var name in RepoPaths.BuiltInTableauNames)
        {
            var source = SourceTableau.Read(RepoPaths.ReadBuiltInTableau(name).Text, name);
            var type = runtime.GetType($"NeuralOde.Tableaux.{name}", throwOnError: true)!;
            object? Field(string field) => type.GetField(field, BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.Static)?.GetValue(null);

            Assert.Equal((double[])Field("C")!, Values(source.C));
            Assert.Equal((double[][])Field("A")!, source.A.Select(Values));
            Assert.Equal((double[])Field("B")!, Values(source.B));
            Assert.Equal((double[]?)Field("BHat"), source.BHat is null ? null : Values(source.BHat));
            Assert.Equal((double[][]?)Field("BTheta"), source.BTheta?.Select(Values).ToArray());
            Assert.Equal((double[]?)Field("CDense") ?? [], Values(source.CDense));
            Assert.Equal((double[][]?)Field("ADense") ?? [], source.ADense.Select(Values));
        }
    }

    [Theory]
    [InlineData("0", 0.0, "0")]
    [InlineData("-7200.0 / 2197", -7200.0 / 2197, "-7200/2197")]
    [InlineData("(1.0 / 3) + (1.0 / 6)", 0.5, "1/2")]
    [InlineData("0.1 + 0.2", 0.3, null)] // exact 3/10, not the folded 0.30000000000000004
    [InlineData("1 / 2 + 1.0", 1.0, "1")] // C#'s integer division first
    [InlineData("-1 / 2", 0.0, "0")]
    [InlineData("7 / -2 * 1.0", -3.0, "-3")] // truncates towards zero
    [InlineData("(double)1 / 4", 0.25, "1/4")]
    [InlineData("2.5e-3", 0.0025, null)]
    [InlineData("1e3 / 8", 125.0, "125")]
    [InlineData("1_000.0 / 8", 125.0, "125")]
    [InlineData("0.9800255409045097", 0.9800255409045097, null)]
    [InlineData("5.32586482843925895", 5.32586482843925895, null)]
    public void SourceTableau_EvaluatesConstantExpressionsExactly(string expression, double value, string? exact) =>
        Assert.Equal(new Coefficient(value, exact), SourceTableau.Coefficient(expression));

    /// <summary>
    /// The check fails when the emitter writes one coefficient wrongly. RK4's generated code is compiled again with
    /// its first emitted constant equal to b₁ = 1/6 changed by one part in 10⁹ (as a faulty emitter would write it,
    /// in the step and, while the metadata reads the same constant, in the metadata too): the metadata then agrees
    /// with the step, so a reference read from the metadata would pass, but the comparisons with the source fail.
    /// </summary>
    [Fact]
    public void ACorruptedEmittedCoefficient_IsCaught()
    {
        // Each coefficient is emitted once, in the tableau metadata that the step's scalars are made from: corrupting
        // it there (one part in 10⁹) must show both against the declaration's source and in the step's result.
        const string name = "RungeKutta4";
        var file = RepoPaths.ReadBuiltInTableauCopy(name);
        var source = SourceTableau.Read(file.Text, name);
        var run = GeneratorHarness.Run(file);
        run.AssertGeneratorDidNotThrow();
        var tree = run.OutputCompilation.SyntaxTrees.Single(t => t.FilePath.EndsWith($"{name}.g.cs", StringComparison.Ordinal));
        var b1 = source.B[0].Value;
        var literal = tree.GetRoot().DescendantNodes().OfType<LiteralExpressionSyntax>()
            .FirstOrDefault(l => l.Token.Value is double value && value == b1);
        Assert.True(literal is not null, $"The generated {name} states no coefficient equal to b₁ = {b1:R} to corrupt.");
        var corrupted = b1 * (1 + 1e-9);
        var text = corrupted.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        var mutated = tree.WithRootAndOptions(
            tree.GetRoot().ReplaceNode(literal, SyntaxFactory.LiteralExpression(SyntaxKind.NumericLiteralExpression, SyntaxFactory.Literal(text, corrupted))),
            tree.Options);
        var scheme = Assert.Single(Load(run.OutputCompilation.ReplaceSyntaxTree(tree, mutated), [$"NeuralOde.Tableaux.Copies.{name}"]));

        var metadata = Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => AssertMetadataIsTheSource(scheme, source));
        Assert.Contains("RK4 B[0]", metadata.Message, StringComparison.Ordinal);
        var step = Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => AssertStepMatchesTheSource(scheme, source));
        Assert.Contains("y1 of RK4", step.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// Random valid tableaux (1–6 stages; entries 0, ±1, small fractions and decimals; FSAL or not; with or without
    /// BHat and ragged dense output), generated, compiled and run against the source reference: the emitter's
    /// shortcuts (zero terms left out, ±1 without a multiply, the FSAL stage reused, polynomials of any degree) must
    /// never change the arithmetic. The tolerance is looser than for the built-ins because random coefficients cancel;
    /// a structural mistake (a wrong stage, sign or term) moves the result by far more, and the metadata is still
    /// checked to the last place.
    /// </summary>
    [Fact]
    public void RandomTableaux_StepAndInterpolateAsDeclared() =>
        CsCheck.Check.Sample(CsCheck.Gen.Int, static seed =>
        {
            var random = new Random(seed);
            var declarations = Enumerable.Range(0, 12).Select(i => RandomTableau.Create(random, $"Random{i}")).ToList();
            var files = declarations.Select(static (d, i) => new SourceFile($"Random{i}.cs", d)).ToList();
            var run = GeneratorHarness.Run(files);
            var errors = run.GeneratorDiagnostics.Where(static d => d.Severity >= DiagnosticSeverity.Warning).ToList();
            Assert.True(errors.Count == 0, $"seed {seed}: " + string.Join("\n", errors.Select(GeneratorHarness.Format)) + "\n" + string.Join("\n", declarations));
            var schemes = Load(run, declarations.Select(static (_, i) => $"Consumer.Random.Random{i}"));
            for (var i = 0; i < schemes.Count; i++)
            {
                try
                {
                    AssertStepsAndInterpolates(schemes[i], SourceTableau.Read(declarations[i], $"Random{i}"), tolerance: 1e-12);
                }
                catch (Xunit.Sdk.XunitException e)
                {
                    throw new Xunit.Sdk.XunitException($"seed {seed}, Random{i}: {e.Message}\n{declarations[i]}");
                }
            }
        }, iter: 2, threads: 1);

    private static List<RungeKuttaScheme> Load(GeneratorRun run, IEnumerable<string> typeNames)
    {
        run.AssertGeneratorDidNotThrow();
        return Load(run.OutputCompilation, typeNames);
    }

    private static List<RungeKuttaScheme> Load(Compilation compilation, IEnumerable<string> typeNames)
    {
        using var image = new MemoryStream();
        var emitted = compilation.Emit(image);
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

    private static void AssertStepsAndInterpolates(RungeKuttaScheme scheme, SourceTableau source, double tolerance = Tolerance)
    {
        AssertMetadataIsTheSource(scheme, source);
        AssertStepMatchesTheSource(scheme, source, tolerance);
    }

    private static void AssertStepMatchesTheSource(RungeKuttaScheme scheme, SourceTableau source, double tolerance = Tolerance)
    {
        void AssertClose(double expected, double actual, string what) => AssertNear(expected, actual, what, tolerance);

        using var scope = NewDisposeScope();
        double[] t0 = [0.0, 0.25, -0.5];
        double[] dt0 = [0.1, 0.05, 0.2];
        double[,] y0 = { { 1.0, -2.0 }, { 0.5, 3.0 }, { -1.5, 0.25 } };
        var t = tensor(t0, float64);
        var dt = tensor(dt0, float64);
        var y = tensor(y0, float64);
        var inputs = new[] { t, dt, y }.Select(static x => x.clone()).ToArray();

        using var step = scheme.Step(Dynamics, t, dt, y, Dynamics(t, y));

        var stages = source.Stages;
        Assert.Equal(stages, step.Slopes.Count);
        var references = new (double Y1, double Error, double[] Scaled)[t0.Length, 2];
        for (var row = 0; row < t0.Length; row++)
        {
            for (var d = 0; d < 2; d++)
            {
                var (y1, error, scaled) = references[row, d] = ReferenceStep(source, t0[row], dt0[row], y0[row, d]);
                var where = $"{scheme.Name}, row {row}, component {d}";
                AssertClose(y1, step.Y[row, d].ToDouble(), $"y1 of {where}");
                if (step.Error is { } estimate)
                {
                    AssertClose(error, estimate[row, d].ToDouble(), $"error of {where}");
                }

                for (var i = 0; i < stages; i++)
                {
                    AssertClose(scaled[i], dt0[row] * step.Slopes[i][row, d].ToDouble(), $"h·k{i + 1} of {where}");
                }

                if (step.EndSlope is { } endSlope)
                {
                    AssertClose(Dynamics(t0[row] + dt0[row], y1), endSlope[row, d].ToDouble(), $"end slope of {where}");
                }
            }
        }

        Assert.Equal(source.BHat is not null, step.Error is not null);
        Assert.Equal(source.BTheta is not null, scheme.HasDenseOutput);
        if (source.BTheta is { } dense)
        {
            double[] thetas = [0.0, 0.375, 1.0];
            var theta = tensor(thetas, float64);
            var stagesBefore = step.Slopes.Select(static s => s.clone()).ToList();
            var thetaBefore = theta.clone();

            var endSlope = scheme.InterpolationUsesEndSlope ? Dynamics(t.add(dt), step.Y) : null;
            var endSlopeBefore = endSlope?.clone();

            // The dense stages come after the step's own, in a step that shares its tensors.
            var denseStages = source.CDense.Length;
            Assert.Equal(denseStages, scheme.DenseStages);
            var extended = scheme.EvaluateDenseStages(Dynamics, t, dt, y, step);
            Assert.Equal(stages + denseStages, extended.Slopes.Count);
            Assert.Same(step.Y, extended.Y);
            if (denseStages > 0)
            {
                Assert.Throws<ArgumentException>(() => scheme.Interpolate(y, step, theta));
            }

            var interpolated = endSlope is null
                ? scheme.Interpolate(y, extended, theta)
                : scheme.Interpolate(y, extended, dt, endSlope, theta);

            for (var row = 0; row < thetas.Length; row++)
            {
                for (var d = 0; d < 2; d++)
                {
                    var expected = y0[row, d];
                    var scaled = ReferenceDenseStages(source, t0[row], dt0[row], y0[row, d], references[row, d].Scaled);
                    for (var i = 0; i < stages + denseStages; i++)
                    {
                        AssertClose(scaled[i], dt0[row] * extended.Slopes[i][row, d].ToDouble(), $"h·k{i + 1} of {scheme.Name}, row {row}, component {d}");
                        var weight = dense[i].Select((c, k) => c.Value * Math.Pow(thetas[row], k + 1)).Sum();
                        expected += weight * scaled[i];
                    }

                    if (endSlope is not null)
                    {
                        // The row past the stages weights the end slope f(t + h, y1).
                        var weight = dense[stages].Select((c, k) => c.Value * Math.Pow(thetas[row], k + 1)).Sum();
                        expected += weight * dt0[row] * endSlope[row, d].ToDouble();
                    }

                    AssertClose(expected, interpolated[row, d].ToDouble(), $"{scheme.Name} at θ = {thetas[row]}, row {row}, component {d}");
                }
            }

            Assert.True(theta.equal(thetaBefore).all().item<bool>(), $"{scheme.Name}.Interpolate changed θ in place.");
            Assert.True(endSlope is null || endSlope.equal(endSlopeBefore!).all().item<bool>(), $"{scheme.Name}.Interpolate changed the end slope in place.");
            for (var i = 0; i < stages; i++)
            {
                Assert.True(step.Slopes[i].equal(stagesBefore[i]).all().item<bool>(), $"{scheme.Name}.Interpolate changed k{i + 1} in place.");
            }
        }

        Assert.True(t.equal(inputs[0]).all().item<bool>(), $"{scheme.Name}.Step changed t in place.");
        Assert.True(dt.equal(inputs[1]).all().item<bool>(), $"{scheme.Name}.Step changed dt in place.");
        Assert.True(y.equal(inputs[2]).all().item<bool>(), $"{scheme.Name}.Step changed y in place.");
    }

    /// <summary>
    /// The emitted <c>Tableau</c> holds the declared coefficients: the same shape, and each value within one unit in
    /// the last place of the source's (the generator emits the double nearest an exact fraction, the compiler folds an
    /// inexact expression operation by operation; for a single literal or quotient both are the nearest double).
    /// </summary>
    private static void AssertMetadataIsTheSource(RungeKuttaScheme scheme, SourceTableau source)
    {
        var tableau = scheme.Tableau;
        Assert.Equal(source.Stages, tableau.Stages);
        Assert.Equal(source.Stages, scheme.Stages);
        AssertSameCoefficients(source.C, tableau.C, $"{scheme.Name} C");
        Assert.Equal(source.A.Length, tableau.A.Count);
        for (var i = 0; i < source.A.Length; i++)
        {
            AssertSameCoefficients(source.A[i], tableau.A[i], $"{scheme.Name} A[{i}]");
        }

        AssertSameCoefficients(source.B, tableau.B, $"{scheme.Name} B");
        Assert.Equal(source.BHat is null, tableau.BHat is null);
        if (source.BHat is { } bHat)
        {
            AssertSameCoefficients(bHat, tableau.BHat!, $"{scheme.Name} BHat");
        }

        AssertSameCoefficients(source.CDense, tableau.CDense, $"{scheme.Name} CDense");
        Assert.Equal(source.ADense.Length, tableau.ADense.Count);
        for (var m = 0; m < source.ADense.Length; m++)
        {
            AssertSameCoefficients(source.ADense[m], tableau.ADense[m], $"{scheme.Name} ADense[{m}]");
        }

        Assert.Equal(source.BTheta is null, tableau.BTheta is null);
        if (source.BTheta is { } bTheta)
        {
            Assert.Equal(bTheta.Length, tableau.BTheta!.Count);
            for (var i = 0; i < bTheta.Length; i++)
            {
                AssertSameCoefficients(bTheta[i], tableau.BTheta[i], $"{scheme.Name} BTheta[{i}]");
            }
        }
    }

    private static void AssertSameCoefficients(Coefficient[] expected, IReadOnlyList<Coefficient> actual, string what)
    {
        Assert.True(expected.Length == actual.Count, $"{what}: {actual.Count} entries, the source has {expected.Length}");
        for (var i = 0; i < expected.Length; i++)
        {
            var (value, exact) = (actual[i].Value, expected[i].Value);
            Assert.True(
                value == exact || Math.Abs(value - exact) <= Math.BitIncrement(Math.Abs(exact)) - Math.Abs(exact),
                $"{what}[{i}]: the metadata holds {value:R}, the source says {exact:R}");
            Assert.True(
                actual[i].Exact == expected[i].Exact,
                $"{what}[{i}]: the metadata's fraction is {actual[i].Exact ?? "null"}, the source's {expected[i].Exact ?? "null (not exact)"}");
        }
    }

    private static double[] Values(Coefficient[] coefficients) => [.. coefficients.Select(static c => c.Value)];

    /// <summary>One scalar step of the tableau: y₁, the error estimate h·Σ(bᵢ − b̂ᵢ)kᵢ and the scaled stages h·kᵢ.</summary>
    private static (double Y1, double Error, double[] Scaled) ReferenceStep(SourceTableau tableau, double t, double h, double y)
    {
        var stages = tableau.Stages;
        var scaled = new double[stages];
        for (var i = 0; i < stages; i++)
        {
            var input = y;
            for (var j = 0; j < tableau.A[i].Length; j++)
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

    // The step's scaled stages followed by the dense ones: hkᵢ = h·f(t + cᵢh, y + Σⱼ aᵢⱼ·hkⱼ) for i = s + 1, …, s + m.
    private static double[] ReferenceDenseStages(SourceTableau tableau, double t, double h, double y, double[] scaled)
    {
        var all = new List<double>(scaled);
        for (var m = 0; m < tableau.CDense.Length; m++)
        {
            var input = y;
            for (var j = 0; j < tableau.ADense[m].Length; j++)
            {
                input += tableau.ADense[m][j].Value * all[j];
            }

            all.Add(h * Dynamics(t + (tableau.CDense[m].Value * h), input));
        }

        return [.. all];
    }

    private static void AssertNear(double expected, double actual, string what, double tolerance) =>
        Assert.True(
            Math.Abs(expected - actual) <= tolerance * Math.Max(1, Math.Abs(expected)),
            $"{what}: expected {expected:R}, got {actual:R}");
}
