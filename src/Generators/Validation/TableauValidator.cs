using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using NeuralOde.Generators.Diagnostics;
using NeuralOde.Generators.Helpers;

namespace NeuralOde.Generators.Validation;

/// <summary>What the validator derived from a valid tableau.</summary>
/// <param name="Stages">The number of stages s.</param>
/// <param name="E">The error weights E = B − BHat, or null without BHat.</param>
/// <param name="IsFsal">Whether the last stage is evaluated at the new solution.</param>
internal sealed record ValidatedTableau(int Stages, IReadOnlyList<ParsedCoefficient>? E, bool IsFsal);

/// <summary>
/// The checks on a parsed tableau (diffrax's <c>__post_init__</c> asserts and OrdinaryDiffEq's
/// <c>check_tableau</c>, turned into located diagnostics): shape, explicitness, row sums, weight sums, dense
/// output, and every order condition up to the declared orders.
/// </summary>
internal static class TableauValidator
{
    /// <summary>The most stages a tableau may have.</summary>
    public const int MaxStages = 64;

    /// <summary>The relative tolerance of the row-sum, weight-sum and dense-output checks on inexact coefficients.</summary>
    public const double SumTolerance = 1e-12;

    /// <summary>The relative tolerance of the order conditions on inexact coefficients.</summary>
    public const double OrderTolerance = 1e-10;

    /// <summary>Checks a tableau and reports every problem found.</summary>
    /// <param name="tableau">The tableau as parsed.</param>
    /// <param name="diagnostics">Receives the diagnostics; it may already hold the parser's.</param>
    /// <param name="cancellationToken">Cancels the check.</param>
    /// <returns>The derived facts, or null when the tableau has an error (reported or found earlier).</returns>
    public static ValidatedTableau? Validate(
        ParsedTableau tableau, List<Diagnostic> diagnostics, CancellationToken cancellationToken)
    {
        if (!CheckShape(tableau, diagnostics) || HasError(diagnostics))
        {
            return null;
        }

        var stages = tableau.A.Rows.Count;
        var weights = new ElementaryWeights(tableau.A.Rows);
        var rowSumsHold = CheckRowSums(tableau, weights, diagnostics, cancellationToken);
        var bSumsToOne = CheckWeightSum(tableau, tableau.B, diagnostics);
        var bHatSumsToOne = tableau.BHat is null || CheckWeightSum(tableau, tableau.BHat, diagnostics);
        var denseEndsAtB = CheckDenseOutput(tableau, diagnostics);
        var denseRowSumsHold = CheckDenseRowSums(tableau, diagnostics);

        // The order conditions are written with cᵢ = Σⱼ aᵢⱼ: with a row sum broken they would only restate that one
        // mistake (a wrong aᵢⱼ) under another ID, so they are checked for tableaux whose row sums hold.
        if (rowSumsHold)
        {
            if (bSumsToOne)
            {
                CheckOrder(tableau, tableau.B, "b", tableau.Order, tableau.OrderLocation, weights, diagnostics, cancellationToken);
            }

            if (tableau.BHat is not null && bHatSumsToOne && tableau.EmbeddedOrder is { } embeddedOrder)
            {
                CheckOrder(tableau, tableau.BHat, "b̂", embeddedOrder, tableau.EmbeddedOrderLocation, weights, diagnostics, cancellationToken);
            }

            if (denseEndsAtB && denseRowSumsHold && tableau.BTheta is not null && tableau.DenseOrder is { } denseOrder)
            {
                CheckDenseOrder(tableau, denseOrder, weights, diagnostics, cancellationToken);
            }
        }

        if (HasError(diagnostics))
        {
            return null;
        }

        var errorWeights = ErrorWeights(tableau);
        if (errorWeights is not null && errorWeights.All(static e => e.Value == 0))
        {
            // A valid but useless pair: the error estimate is identically zero, so every adaptive step is accepted.
            Report(diagnostics, DiagnosticDescriptors.EmbeddedWeightsEqualWeights, tableau.BHatField ?? tableau.BHat!.Location, tableau.DisplayName);
        }

        return new ValidatedTableau(stages, errorWeights, IsFsal(tableau));
    }

    private static bool HasError(List<Diagnostic> diagnostics) =>
        diagnostics.Any(static d => d.Severity == DiagnosticSeverity.Error);

    private static bool CheckShape(ParsedTableau tableau, List<Diagnostic> diagnostics)
    {
        var stages = tableau.A.Rows.Count;
        if (stages == 0)
        {
            Report(diagnostics, DiagnosticDescriptors.ShapeMismatch, tableau.A.Location, tableau.DisplayName,
                "'A' has no rows, but a tableau needs at least one stage");
            return false;
        }

        if (stages > MaxStages)
        {
            Report(diagnostics, DiagnosticDescriptors.ShapeMismatch, tableau.A.Location, tableau.DisplayName,
                $"'A' has {stages} rows, but at most {MaxStages} stages are supported");
            return false;
        }

        var ok = true;
        foreach (var vector in new[] { tableau.C, tableau.B, tableau.BHat })
        {
            if (vector is not null && vector.Items.Count != stages)
            {
                Report(diagnostics, DiagnosticDescriptors.ShapeMismatch, vector.Location, tableau.DisplayName,
                    $"'{vector.Path}' has {vector.Items.Count} entries, but 'A' has {stages} rows (one per stage)");
                ok = false;
            }
        }

        for (var i = 0; i < stages; i++)
        {
            var row = tableau.A.Rows[i];
            if (row.Items.Count < i)
            {
                Report(diagnostics, DiagnosticDescriptors.ShapeMismatch, row.Location, tableau.DisplayName,
                    $"'{row.Path}' has {row.Items.Count} entries, but row {i} of an explicit tableau has {i}");
                ok = false;
            }
            else if (row.Items.Count > i)
            {
                var reason = i == 0
                    ? "'A[0]' must be empty, because the first stage is f(t, y)"
                    : $"'{row.Path}' has {row.Items.Count} entries, but row {i} may only hold the {i} entries left of the diagonal";
                Report(diagnostics, DiagnosticDescriptors.NotExplicit, row.Location, tableau.DisplayName, reason);
                ok = false;
            }
        }

        if (tableau.C.Items.Count > 0 && tableau.C.Items[0] is { Value: not 0 } first)
        {
            Report(diagnostics, DiagnosticDescriptors.NotExplicit, first.Location, tableau.DisplayName,
                $"C[0] must be 0, but it is {CoefficientFormatter.ForMessage(first.Exact, first.Value)}");
            ok = false;
        }

        return CheckDenseShape(tableau, diagnostics) && ok;
    }

    // BTheta's rows, and the dense stages CDense/ADense: declared together, one node and one row each, row m weighting
    // the s stages and the m dense stages before it, and weighted by BTheta's rows past the stages.
    private static bool CheckDenseShape(ParsedTableau tableau, List<Diagnostic> diagnostics)
    {
        var stages = tableau.A.Rows.Count;
        var name = tableau.DisplayName;
        var invalid = DiagnosticDescriptors.InvalidDenseOutput;
        if ((tableau.CDense is null) != (tableau.ADense is null))
        {
            var (declared, missing, location) = tableau.CDense is { } nodes
                ? ("CDense", "ADense", nodes.Location)
                : ("ADense", "CDense", tableau.ADense!.Location);
            Report(diagnostics, invalid, location, name,
                $"'{declared}' is declared without '{missing}': each dense stage needs its node in CDense and its row in ADense");
            return false;
        }

        if (tableau.CDense is not { } cDense || tableau.ADense is not { } aDense)
        {
            if (tableau.BTheta is { } plain && plain.Rows.Count != stages && plain.Rows.Count != stages + 1)
            {
                Report(diagnostics, invalid, plain.Location, name,
                    $"'BTheta' has {plain.Rows.Count} rows, but 'A' has {stages} (one polynomial per stage, and optionally one more for the end slope f(t + h, y₁))");
                return false;
            }

            return true;
        }

        var denseStages = cDense.Items.Count;
        if (denseStages == 0)
        {
            Report(diagnostics, invalid, cDense.Location, name,
                "'CDense' is empty; leave CDense and ADense out when the dense output needs no extra stage");
            return false;
        }

        if (tableau.BTheta is null)
        {
            Report(diagnostics, invalid, cDense.Location, name,
                "'CDense' and 'ADense' declare extra stages of the dense output, but the tableau declares no BTheta to weight them");
            return false;
        }

        if (stages + denseStages > MaxStages)
        {
            Report(diagnostics, invalid, cDense.Location, name,
                $"the {stages} stages and {denseStages} dense stages are more than the {MaxStages} supported");
            return false;
        }

        var ok = true;
        if (aDense.Rows.Count != denseStages)
        {
            Report(diagnostics, invalid, aDense.Location, name,
                $"'ADense' has {aDense.Rows.Count} rows, but 'CDense' has {denseStages} nodes (one row per dense stage)");
            ok = false;
        }
        else
        {
            for (var m = 0; m < denseStages; m++)
            {
                var row = aDense.Rows[m];
                if (row.Items.Count != stages + m)
                {
                    var before = m == 0 ? string.Empty : $" and the {m} dense stage{(m == 1 ? string.Empty : "s")} before it";
                    Report(diagnostics, invalid, row.Location, name,
                        $"'{row.Path}' has {row.Items.Count} entries, but dense stage {m + 1} weights the {stages} stages{before}, so it has {stages + m}");
                    ok = false;
                }
            }
        }

        var dense = tableau.BTheta;
        if (dense.Rows.Count != stages + denseStages)
        {
            Report(diagnostics, invalid, dense.Location, name,
                $"'BTheta' has {dense.Rows.Count} rows, but the tableau has {stages} stages and {denseStages} dense stage{(denseStages == 1 ? string.Empty : "s")} (one polynomial each)");
            ok = false;
        }

        return ok;
    }

    private static bool CheckRowSums(
        ParsedTableau tableau, ElementaryWeights weights, List<Diagnostic> diagnostics, CancellationToken cancellationToken)
    {
        var ok = true;
        var exactSums = tableau.C.IsExact ? weights.ExactRowSums() : null;
        for (var i = 1; i < tableau.A.Rows.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var row = tableau.A.Rows[i];
            var c = tableau.C.Items[i];
            var sum = row.Items.Sum(static a => a.Value);
            string residual;
            if (exactSums is not null)
            {
                if (exactSums[i] == c.Exact!.Value)
                {
                    continue;
                }

                residual = CoefficientFormatter.ForMessage((exactSums[i] - c.Exact.Value).Abs(), 0);
            }
            else
            {
                var difference = Math.Abs(sum - c.Value);
                if (difference <= SumTolerance * Math.Max(1, Math.Abs(c.Value)))
                {
                    continue;
                }

                residual = CoefficientFormatter.Residual(difference);
            }

            Report(diagnostics, DiagnosticDescriptors.RowSumMismatch, c.Location,
                tableau.DisplayName,
                i.ToString(CultureInfo.InvariantCulture),
                CoefficientFormatter.ForMessage(exactSums?[i], sum),
                CoefficientFormatter.ForMessage(c.Exact, c.Value),
                residual);
            ok = false;
        }

        return ok;
    }

    /// <summary>Checks that each dense stage's row sums to its node: Σⱼ aᵢⱼ = cᵢ for i = s + 1, …, s + m.</summary>
    private static bool CheckDenseRowSums(ParsedTableau tableau, List<Diagnostic> diagnostics)
    {
        if (tableau.CDense is not { } cDense || tableau.ADense is not { } aDense)
        {
            return true;
        }

        var ok = true;
        for (var m = 0; m < cDense.Items.Count; m++)
        {
            var row = aDense.Rows[m];
            var c = cDense.Items[m];
            var sum = row.Items.Sum(static a => a.Value);
            Rational? exactSum = null;
            if (row.IsExact && c.Exact is { } exactC)
            {
                exactSum = row.Items.Aggregate(Rational.Zero, static (total, a) => total + a.Exact!.Value);
                if (exactSum.Value == exactC)
                {
                    continue;
                }
            }
            else if (Math.Abs(sum - c.Value) <= SumTolerance * Math.Max(1, row.Items.Sum(static a => Math.Abs(a.Value))))
            {
                continue;
            }

            Report(diagnostics, DiagnosticDescriptors.InvalidDenseOutput, row.Location, tableau.DisplayName,
                $"the coefficients of {row.Path} sum to {CoefficientFormatter.ForMessage(exactSum, sum)}, but a dense stage's row sums to its node, CDense[{m}] = {CoefficientFormatter.ForMessage(c.Exact, c.Value)}");
            ok = false;
        }

        return ok;
    }

    private static bool CheckWeightSum(ParsedTableau tableau, ParsedArray weights, List<Diagnostic> diagnostics)
    {
        string residual;
        Rational? exactSum = null;
        var sum = weights.Items.Sum(static b => b.Value);
        if (weights.IsExact)
        {
            exactSum = weights.Items.Aggregate(Rational.Zero, static (total, b) => total + b.Exact!.Value);
            if (exactSum.Value == Rational.One)
            {
                return true;
            }

            residual = CoefficientFormatter.ForMessage((exactSum.Value - Rational.One).Abs(), 0);
        }
        else
        {
            var difference = Math.Abs(sum - 1);
            if (difference <= SumTolerance * Math.Max(1, weights.Items.Sum(static b => Math.Abs(b.Value))))
            {
                return true;
            }

            residual = CoefficientFormatter.Residual(difference);
        }

        Report(diagnostics, DiagnosticDescriptors.WeightsNotNormalized, weights.Location,
            tableau.DisplayName, weights.Path, CoefficientFormatter.ForMessage(exactSum, sum), residual);
        return false;
    }

    /// <summary>Checks bᵢ(1) = bᵢ for every stage (and bᵢ(1) = 0 for the end slope and the dense stages); bᵢ(0) = 0
    /// holds by the form of a row (coefficients of θ¹, θ², …, no constant term).</summary>
    private static bool CheckDenseOutput(ParsedTableau tableau, List<Diagnostic> diagnostics)
    {
        if (tableau.BTheta is not { } dense)
        {
            return true;
        }

        var ok = true;
        var stages = tableau.B.Items.Count;
        for (var i = 0; i < dense.Rows.Count; i++)
        {
            var row = dense.Rows[i];
            var pastStages = i >= stages;
            var b = pastStages ? new ParsedCoefficient(0, Rational.Zero, "0", row.Location) : tableau.B.Items[i];
            var sum = row.Items.Sum(static d => d.Value);
            Rational? exactSum = null;
            if (row.IsExact && b.Exact is not null)
            {
                exactSum = row.Items.Aggregate(Rational.Zero, static (total, d) => total + d.Exact!.Value);
                if (exactSum.Value == b.Exact.Value)
                {
                    continue;
                }
            }
            else if (Math.Abs(sum - b.Value) <= SumTolerance * Math.Max(1, row.Items.Sum(static d => Math.Abs(d.Value))))
            {
                continue;
            }

            var expected = !pastStages
                ? $"b_{i + 1}(1) must equal B[{i}] = {CoefficientFormatter.ForMessage(b.Exact, b.Value)}"
                : tableau.DenseStages == 0
                    ? $"b_{i + 1}(1), the weight of the end slope f(t + h, y₁), must be 0"
                    : $"b_{i + 1}(1), the weight of dense stage {i - stages + 1}, must be 0";
            Report(diagnostics, DiagnosticDescriptors.InvalidDenseOutput, row.Location, tableau.DisplayName,
                $"the coefficients of {row.Path} sum to {CoefficientFormatter.ForMessage(exactSum, sum)}, but {expected}");
            ok = false;
        }

        return ok;
    }

    /// <summary>
    /// Checks the continuous order conditions Σ bᵢ(θ) Φᵢ(t) = θ^|t|/γ(t) for every tree up to the dense order,
    /// power by power: the θᵏ coefficients of Σ bᵢ(θ) Φᵢ(t) must be 1/γ(t) for k = |t| and 0 otherwise. A row past
    /// the stages weights the end slope f(t + h, y₁), a stage s + 1 with the row B of A (c = 1), or, with dense
    /// stages, those stages s + 1, …, s + m with their rows of ADense.
    /// </summary>
    private static void CheckDenseOrder(
        ParsedTableau tableau,
        int denseOrder,
        ElementaryWeights stageWeights,
        List<Diagnostic> diagnostics,
        CancellationToken cancellationToken)
    {
        var dense = tableau.BTheta!;
        var usesEndSlope = tableau.DenseStages == 0 && dense.Rows.Count == tableau.A.Rows.Count + 1;
        var weights = tableau.ADense is { } aDense
            ? new ElementaryWeights([.. tableau.A.Rows, .. aDense.Rows])
            : usesEndSlope ? new ElementaryWeights([.. tableau.A.Rows, tableau.B]) : stageWeights;
        var degree = dense.Rows.Max(static row => row.Items.Count);
        var exact = weights.IsExact && dense.Rows.All(static row => row.IsExact);
        foreach (var tree in RootedTrees.UpToOrder(denseOrder))
        {
            for (var k = 1; k <= Math.Max(degree, tree.Order); k++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var target = k == tree.Order ? Rational.Create(1, tree.Density) : Rational.Zero;
                string value;
                string residual;
                if (exact)
                {
                    var g = weights.Exact(tree);
                    var phi = Rational.Zero;
                    for (var i = 0; i < g.Length; i++)
                    {
                        if (k <= dense.Rows[i].Items.Count)
                        {
                            phi += dense.Rows[i].Items[k - 1].Exact!.Value * g[i];
                        }
                    }

                    if (phi == target)
                    {
                        continue;
                    }

                    value = CoefficientFormatter.ForMessage(phi, 0);
                    residual = CoefficientFormatter.ForMessage((phi - target).Abs(), 0);
                }
                else
                {
                    var (g, abs) = weights.Approximate(tree);
                    double phi = 0, scale = 0;
                    for (var i = 0; i < g.Length; i++)
                    {
                        if (k <= dense.Rows[i].Items.Count)
                        {
                            var d = dense.Rows[i].Items[k - 1].Value;
                            phi += d * g[i];
                            scale += Math.Abs(d) * abs[i];
                        }
                    }

                    var difference = Math.Abs(phi - target.ToDouble());
                    if (difference <= OrderTolerance * Math.Max(1, scale))
                    {
                        continue;
                    }

                    value = CoefficientFormatter.ForMessage(null, phi);
                    residual = CoefficientFormatter.Residual(difference);
                }

                Report(diagnostics, DiagnosticDescriptors.DenseOrderNotMet, tableau.DenseOrderLocation,
                    tableau.DisplayName,
                    denseOrder.ToString(CultureInfo.InvariantCulture),
                    tree.Name,
                    tree.Order.ToString(CultureInfo.InvariantCulture),
                    Power(k),
                    tree.FormulaFor("b").Replace("Σ b_i", "Σ b_i(θ)"),
                    value,
                    target.ToString(),
                    residual);
                return;
            }
        }
    }

    private static string Power(int k) =>
        "θ" + (k == 1 ? string.Empty : new string([.. k.ToString(CultureInfo.InvariantCulture).Select(static d => "⁰¹²³⁴⁵⁶⁷⁸⁹"[d - '0'])]));

    private static void CheckOrder(
        ParsedTableau tableau,
        ParsedArray weights,
        string symbol,
        int order,
        Location location,
        ElementaryWeights elementary,
        List<Diagnostic> diagnostics,
        CancellationToken cancellationToken)
    {
        var exact = elementary.IsExact && weights.IsExact;
        foreach (var tree in RootedTrees.UpToOrder(order))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var target = Rational.Create(1, tree.Density);
            string value;
            string residual;
            if (exact)
            {
                var g = elementary.Exact(tree);
                var phi = Rational.Zero;
                for (var i = 0; i < g.Length; i++)
                {
                    phi += weights.Items[i].Exact!.Value * g[i];
                }

                if (phi == target)
                {
                    continue;
                }

                value = CoefficientFormatter.ForMessage(phi, 0);
                residual = CoefficientFormatter.ForMessage((phi - target).Abs(), 0);
            }
            else
            {
                var (g, abs) = elementary.Approximate(tree);
                double phi = 0, scale = 0;
                for (var i = 0; i < g.Length; i++)
                {
                    phi += weights.Items[i].Value * g[i];
                    scale += Math.Abs(weights.Items[i].Value) * abs[i];
                }

                var difference = Math.Abs(phi - (1.0 / tree.Density));
                if (difference <= OrderTolerance * Math.Max(1, scale))
                {
                    continue;
                }

                value = CoefficientFormatter.ForMessage(null, phi);
                residual = CoefficientFormatter.Residual(difference);
            }

            Report(diagnostics, DiagnosticDescriptors.OrderNotMet, location,
                tableau.DisplayName,
                order.ToString(CultureInfo.InvariantCulture),
                weights.Path,
                tree.Name,
                tree.Order.ToString(CultureInfo.InvariantCulture),
                tree.FormulaFor(symbol),
                value,
                target.ToString(),
                residual);
            return;
        }
    }

    private static IReadOnlyList<ParsedCoefficient>? ErrorWeights(ParsedTableau tableau)
    {
        if (tableau.BHat is not { } bHat)
        {
            return null;
        }

        return
        [
            .. tableau.B.Items.Zip(bHat.Items, static (b, bHat) =>
                b.Exact is { } exactB && bHat.Exact is { } exactBHat
                    ? new ParsedCoefficient((exactB - exactBHat).ToDouble(), exactB - exactBHat, $"{b.SourceText} − ({bHat.SourceText})", b.Location)
                    : new ParsedCoefficient(b.Value - bHat.Value, null, $"{b.SourceText} − ({bHat.SourceText})", b.Location)),
        ];
    }

    private static bool IsFsal(ParsedTableau tableau)
    {
        // torchode's is_fsal: the last stage is evaluated at y + Σ bᵢ hkᵢ, at t + dt.
        var s = tableau.A.Rows.Count;
        if (s < 2 || tableau.C.Items[0].Value != 0 || tableau.C.Items[s - 1].Value != 1 || tableau.B.Items[s - 1].Value != 0)
        {
            return false;
        }

        var last = tableau.A.Rows[s - 1].Items;
        for (var j = 0; j < s - 1; j++)
        {
            var a = last[j];
            var b = tableau.B.Items[j];
            if (a.Value != b.Value || (a.Exact is { } exactA && b.Exact is { } exactB && exactA != exactB))
            {
                return false;
            }
        }

        return true;
    }

    private static void Report(
        List<Diagnostic> diagnostics, DiagnosticDescriptor descriptor, Location location, params object[] arguments) =>
        diagnostics.Add(Diagnostic.Create(descriptor, location, arguments));
}
