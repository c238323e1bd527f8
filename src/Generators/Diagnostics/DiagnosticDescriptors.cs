using Microsoft.CodeAnalysis;

namespace NeuralOde.Generators.Diagnostics;

/// <summary>
/// The diagnostics of the Butcher tableau generator. Each ID is stable and documented in
/// <c>docs/diagnostics/RKGxxx.md</c>; new ones are listed in <c>AnalyzerReleases.Unshipped.md</c>.
/// </summary>
internal static class DiagnosticDescriptors
{
    private const string HelpLinkBase = "https://github.com/neuralode/neuralode/blob/main/docs/diagnostics/";

    /// <summary>RKG000: <c>"The Butcher tableau generator failed on '{0}': {1}"</c>.</summary>
    public static readonly DiagnosticDescriptor InternalError = new(
        id: "RKG000",
        title: "Internal generator error",
        messageFormat: "The Butcher tableau generator failed on '{0}': {1}",
        category: DiagnosticCategories.ButcherTableau,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "The generator hit an unexpected error. This is a bug in the generator; please report it with the declaration that triggers it.",
        helpLinkUri: HelpLinkBase + "RKG000.md");

    /// <summary>
    /// RKG001: <c>"The type '{0}' {1}"</c>, where {1} is <c>"must be declared partial, because the generator adds the
    /// scheme to it"</c> or says that a file-local type cannot get a generated part.
    /// </summary>
    public static readonly DiagnosticDescriptor TypeNotPartial = new(
        id: "RKG001",
        title: "Tableau type must be partial",
        messageFormat: "The type '{0}' {1}",
        category: DiagnosticCategories.ButcherTableau,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "The generator adds a nested Method class and a Scheme property to the tableau class in a file of its own, so the class and every type that contains it must be partial, and none of them file-local.",
        helpLinkUri: HelpLinkBase + "RKG001.md");

    /// <summary>RKG002: <c>"The tableau type '{0}' cannot be generic or nested in a generic type"</c>.</summary>
    public static readonly DiagnosticDescriptor TypeIsGeneric = new(
        id: "RKG002",
        title: "Tableau type cannot be generic",
        messageFormat: "The tableau type '{0}' cannot be generic or nested in a generic type",
        category: DiagnosticCategories.ButcherTableau,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "A scheme is a single instance with a fixed name, so its type cannot have type parameters.",
        helpLinkUri: HelpLinkBase + "RKG002.md");

    /// <summary>RKG003: <c>"The tableau type '{0}' must be declared static"</c>.</summary>
    public static readonly DiagnosticDescriptor TypeNotStatic = new(
        id: "RKG003",
        title: "Tableau type must be static",
        messageFormat: "The tableau type '{0}' must be declared static",
        category: DiagnosticCategories.ButcherTableau,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "A tableau class only holds coefficients; declare it as a static partial class.",
        helpLinkUri: HelpLinkBase + "RKG003.md");

    /// <summary>RKG004: <c>"The tableau member '{0}' {1}"</c>, for example <c>"The tableau member 'C' is missing"</c>.</summary>
    public static readonly DiagnosticDescriptor MemberInvalid = new(
        id: "RKG004",
        title: "Tableau member missing or invalid",
        messageFormat: "The tableau member '{0}' {1}",
        category: DiagnosticCategories.ButcherTableau,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "A tableau declares C (double[]), A (double[][]) and B (double[]), and optionally BHat (double[]) and BTheta (double[][]), each a static readonly field initialized inline with an array literal.",
        helpLinkUri: HelpLinkBase + "RKG004.md");

    /// <summary>RKG005: <c>"The coefficient {0} ('{1}') is not a finite compile-time constant"</c>.</summary>
    public static readonly DiagnosticDescriptor CoefficientNotConstant = new(
        id: "RKG005",
        title: "Coefficient is not a compile-time constant",
        messageFormat: "The coefficient {0} ('{1}') is not a finite compile-time constant",
        category: DiagnosticCategories.ButcherTableau,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "The generator reads coefficients at compile time, so each must be a C# constant expression with a finite value, such as 3.0 / 32.",
        helpLinkUri: HelpLinkBase + "RKG005.md");

    /// <summary>RKG006: <c>"The coefficient {0} divides integers in '{1}', which truncates; write a real literal such as 1.0 / 4"</c>.</summary>
    public static readonly DiagnosticDescriptor IntegerDivision = new(
        id: "RKG006",
        title: "Integer division in a coefficient",
        messageFormat: "The coefficient {0} divides integers in '{1}', which truncates; write a real literal such as 1.0 / 4",
        category: DiagnosticCategories.ButcherTableau,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "In C#, 1 / 4 is integer division and equals 0. Make one operand a real literal (1.0 / 4) to get the fraction.",
        helpLinkUri: HelpLinkBase + "RKG006.md");

    /// <summary>RKG007: <c>"The tableau '{0}' has an inconsistent shape: {1}"</c>.</summary>
    public static readonly DiagnosticDescriptor ShapeMismatch = new(
        id: "RKG007",
        title: "Tableau shape mismatch",
        messageFormat: "The tableau '{0}' has an inconsistent shape: {1}",
        category: DiagnosticCategories.ButcherTableau,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "With s stages (the rows of A), C, B and BHat have s entries and row i of A (zero-based) has i entries.",
        helpLinkUri: HelpLinkBase + "RKG007.md");

    /// <summary>RKG008: <c>"The tableau '{0}' is not explicit: {1}"</c>.</summary>
    public static readonly DiagnosticDescriptor NotExplicit = new(
        id: "RKG008",
        title: "Tableau is not explicit",
        messageFormat: "The tableau '{0}' is not explicit: {1}",
        category: DiagnosticCategories.ButcherTableau,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "Only explicit Runge–Kutta schemes are supported: C[0] is 0 and A is strictly lower triangular, so row i lists a_i1 … a_i,i-1 only.",
        helpLinkUri: HelpLinkBase + "RKG008.md");

    /// <summary>RKG009: <c>"The tableau '{0}' violates the row-sum condition: A[{1}] sums to {2}, but C[{1}] is {3} (residual {4})"</c>.</summary>
    public static readonly DiagnosticDescriptor RowSumMismatch = new(
        id: "RKG009",
        title: "Row-sum condition violated",
        messageFormat: "The tableau '{0}' violates the row-sum condition: A[{1}] sums to {2}, but C[{1}] is {3} (residual {4})",
        category: DiagnosticCategories.ButcherTableau,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "Each node is the sum of its row of A: c_i = Σ_j a_ij. The check is exact for exact coefficients and to 1e-12 otherwise.",
        helpLinkUri: HelpLinkBase + "RKG009.md");

    /// <summary>RKG010: <c>"The weights {1} of '{0}' sum to {2}, not 1 (residual {3})"</c>.</summary>
    public static readonly DiagnosticDescriptor WeightsNotNormalized = new(
        id: "RKG010",
        title: "Weights do not sum to one",
        messageFormat: "The weights {1} of '{0}' sum to {2}, not 1 (residual {3})",
        category: DiagnosticCategories.ButcherTableau,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "Consistency (order one) needs Σ b_i = 1, and Σ b̂_i = 1 for the embedded weights.",
        helpLinkUri: HelpLinkBase + "RKG010.md");

    /// <summary>RKG011: <c>"The tableau '{0}' declares no BHat, so it supports fixed steps only"</c>.</summary>
    public static readonly DiagnosticDescriptor NoEmbeddedWeights = new(
        id: "RKG011",
        title: "No embedded weights: fixed steps only",
        messageFormat: "The tableau '{0}' declares no BHat, so it supports fixed steps only",
        category: DiagnosticCategories.ButcherTableau,
        defaultSeverity: DiagnosticSeverity.Info,
        isEnabledByDefault: true,
        description: "Without embedded weights the scheme has no error estimate, and the adaptive solver rejects it.",
        helpLinkUri: HelpLinkBase + "RKG011.md");

    /// <summary>RKG012: <c>"The scheme name '{0}' is already used by '{1}'; names must be unique in a compilation, ignoring case"</c>.</summary>
    public static readonly DiagnosticDescriptor DuplicateName = new(
        id: "RKG012",
        title: "Duplicate scheme name",
        messageFormat: "The scheme name '{0}' is already used by '{1}'; names must be unique in a compilation, ignoring case",
        category: DiagnosticCategories.ButcherTableau,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "Schemes are looked up by name, ignoring case, so two tableaux of one compilation cannot share a name.",
        helpLinkUri: HelpLinkBase + "RKG012.md");

    /// <summary>RKG013: <c>"The tableau type '{0}' has an invalid scheme name: {1}"</c>.</summary>
    public static readonly DiagnosticDescriptor InvalidName = new(
        id: "RKG013",
        title: "Invalid scheme name",
        messageFormat: "The tableau type '{0}' has an invalid scheme name: {1}",
        category: DiagnosticCategories.ButcherTableau,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "A scheme name is 1 to 64 characters without whitespace, control or invisible characters.",
        helpLinkUri: HelpLinkBase + "RKG013.md");

    /// <summary>
    /// RKG014: <c>"'{0}' claims order {1} for {2}, but the order condition of tree {3} (order {4}) fails: {5} = {6} ≠ {7} (residual {8})"</c>.
    /// </summary>
    public static readonly DiagnosticDescriptor OrderNotMet = new(
        id: "RKG014",
        title: "Declared order not met",
        messageFormat: "'{0}' claims order {1} for {2}, but the order condition of tree {3} (order {4}) fails: {5} = {6} ≠ {7} (residual {8})",
        category: DiagnosticCategories.ButcherTableau,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "Weights of order p satisfy Σ b_i Φ_i(t) = 1/γ(t) for every rooted tree t with at most p nodes; the first failing tree is named.",
        helpLinkUri: HelpLinkBase + "RKG014.md");

    /// <summary>RKG015: <c>"The tableau '{0}' has an invalid order declaration: {1}"</c>.</summary>
    public static readonly DiagnosticDescriptor InvalidOrder = new(
        id: "RKG015",
        title: "Invalid order declaration",
        messageFormat: "The tableau '{0}' has an invalid order declaration: {1}",
        category: DiagnosticCategories.ButcherTableau,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "Order (of B) is required and between 1 and 8; EmbeddedOrder (of BHat) is between 1 and 8 and is set exactly when BHat is declared; DenseOrder (of BTheta) is between 1 and Order and is set only with BTheta (without it, BTheta claims no order).",
        helpLinkUri: HelpLinkBase + "RKG015.md");

    /// <summary>RKG016: <c>"The dense output of '{0}' is invalid: {1}"</c>.</summary>
    public static readonly DiagnosticDescriptor InvalidDenseOutput = new(
        id: "RKG016",
        title: "Invalid dense output",
        messageFormat: "The dense output of '{0}' is invalid: {1}",
        category: DiagnosticCategories.ButcherTableau,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "BTheta has one row per stage, and optionally one more for the end slope f(t + h, y₁) or one more per dense stage; row i holds the coefficients of θ¹, θ², … of b_i(θ) (so b_i(0) = 0), and they sum to B[i] (b_i(1) = b_i), or to 0 for the end slope and the dense stages. Dense stages (extra stages evaluated only in a step that holds an output time) are declared by CDense (their nodes) and ADense (row m weights the s stages and the m dense stages before it, and sums to CDense[m]), both or neither.",
        helpLinkUri: HelpLinkBase + "RKG016.md");

    /// <summary>
    /// RKG017: <c>"The tableau type '{0}' cannot get its generated member '{1}': {2}"</c>, where {2} says that the type
    /// itself has that name or that it already declares a member of that name.
    /// </summary>
    public static readonly DiagnosticDescriptor GeneratedMemberNameTaken = new(
        id: "RKG017",
        title: "Generated member name is taken",
        messageFormat: "The tableau type '{0}' cannot get its generated member '{1}': {2}",
        category: DiagnosticCategories.ButcherTableau,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "The generator adds a nested class Method and a static property Scheme to the tableau type, so the type cannot be named Method or Scheme, nor declare a member of either name.",
        helpLinkUri: HelpLinkBase + "RKG017.md");

    /// <summary>
    /// RKG018: <c>"The scheme '{0}' is not registered, so Schemes.Get cannot find it: {1}; make it internal or public"</c>,
    /// where {1} names the private or protected type.
    /// </summary>
    public static readonly DiagnosticDescriptor NotRegistered = new(
        id: "RKG018",
        title: "Tableau is not registered",
        messageFormat: "The scheme '{0}' is not registered, so Schemes.Get cannot find it: {1}; make it internal or public",
        category: DiagnosticCategories.ButcherTableau,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "The generated registry is a top-level internal class, so it can only list a tableau type that it can reach: the type and every type containing it must be internal, protected internal or public. A private or protected type is still generated and usable through its Scheme property, but not by name.",
        helpLinkUri: HelpLinkBase + "RKG018.md");

    /// <summary>RKG019: <c>"The embedded weights BHat of '{0}' equal the propagated weights B, so every error estimate is zero and an adaptive solver accepts every step"</c>.</summary>
    public static readonly DiagnosticDescriptor EmbeddedWeightsEqualWeights = new(
        id: "RKG019",
        title: "Embedded weights equal the propagated weights",
        messageFormat: "The embedded weights BHat of '{0}' equal the propagated weights B, so every error estimate is zero and an adaptive solver accepts every step",
        category: DiagnosticCategories.ButcherTableau,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "The error estimate of a step is Σ (b_i − b̂_i)·h·k_i. When BHat equals B entry for entry, it is zero for every step, so step-size control never rejects a step or shrinks h; the pair must differ, usually in order.",
        helpLinkUri: HelpLinkBase + "RKG019.md");

    /// <summary>
    /// RKG020: <c>"'{0}' claims dense order {1}, but the continuous order condition of tree {2} (order {3}) fails: the
    /// {4} coefficient of {5} is {6}, not {7} (residual {8})"</c>.
    /// </summary>
    public static readonly DiagnosticDescriptor DenseOrderNotMet = new(
        id: "RKG020",
        title: "Declared dense order not met",
        messageFormat: "'{0}' claims dense order {1}, but the continuous order condition of tree {2} (order {3}) fails: the {4} coefficient of {5} is {6}, not {7} (residual {8})",
        category: DiagnosticCategories.ButcherTableau,
        defaultSeverity: DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        description: "A dense output of order q satisfies Σ b_i(θ) Φ_i(t) = θ^|t|/γ(t) for every rooted tree t with at most q nodes and every θ, so the θ^k coefficient of the left side is 1/γ(t) for k = |t| and 0 otherwise; the first failing tree and power are named.",
        helpLinkUri: HelpLinkBase + "RKG020.md");
}
