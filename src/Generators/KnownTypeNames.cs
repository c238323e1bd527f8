namespace NeuralOde.Generators;

/// <summary>
/// The names the generator matches and emits. The generator never references the runtime assembly (it targets
/// netstandard2.0, the runtime net10.0): it finds the attribute by metadata name and writes every runtime type
/// <c>global::</c>-qualified.
/// </summary>
internal static class KnownTypeNames
{
    /// <summary>The metadata name of the attribute that marks a tableau class.</summary>
    public const string ButcherTableauAttribute = "NeuralOde.ButcherTableauAttribute";

    /// <summary>The name of the generator in <c>[GeneratedCode]</c>.</summary>
    public const string GeneratorName = "NeuralOde.Generators";

    /// <summary><c>global::TorchSharp.torch</c>.</summary>
    public const string Torch = "global::TorchSharp.torch";

    /// <summary><c>global::TorchSharp.torch.Tensor</c>.</summary>
    public const string Tensor = "global::TorchSharp.torch.Tensor";

    /// <summary><c>global::NeuralOde.Stepping.RungeKuttaScheme</c>.</summary>
    public const string RungeKuttaScheme = "global::NeuralOde.Stepping.RungeKuttaScheme";

    /// <summary><c>global::NeuralOde.Stepping.IRungeKuttaScheme</c> (generic in the scheme type).</summary>
    public const string IRungeKuttaScheme = "global::NeuralOde.Stepping.IRungeKuttaScheme";

    /// <summary><c>global::NeuralOde.Stepping.RungeKuttaStep</c>.</summary>
    public const string RungeKuttaStep = "global::NeuralOde.Stepping.RungeKuttaStep";

    /// <summary><c>global::NeuralOde.Stepping.StageFunction</c>.</summary>
    public const string StageFunction = "global::NeuralOde.Stepping.StageFunction";

    /// <summary><c>global::NeuralOde.Stepping.ButcherTableau</c>.</summary>
    public const string ButcherTableau = "global::NeuralOde.Stepping.ButcherTableau";

    /// <summary><c>global::NeuralOde.Schemes</c>, the process-wide registry.</summary>
    public const string Schemes = "global::NeuralOde.Schemes";

    /// <summary><c>global::System.CodeDom.Compiler.GeneratedCode</c>.</summary>
    public const string GeneratedCodeAttribute = "global::System.CodeDom.Compiler.GeneratedCode";

    /// <summary><c>global::System.Runtime.CompilerServices.ModuleInitializer</c>.</summary>
    public const string ModuleInitializerAttribute = "global::System.Runtime.CompilerServices.ModuleInitializer";

    /// <summary><c>global::System.Collections.Generic.IReadOnlyList</c>.</summary>
    public const string IReadOnlyList = "global::System.Collections.Generic.IReadOnlyList";

    /// <summary><c>global::System.ArgumentNullException</c>.</summary>
    public const string ArgumentNullException = "global::System.ArgumentNullException";

    /// <summary>Gets the generator's version for <c>[GeneratedCode]</c>, for example <c>0.1.0.0</c>.</summary>
    public static string GeneratorVersion { get; } =
        typeof(KnownTypeNames).Assembly.GetName().Version?.ToString() ?? "0.0.0.0";
}
