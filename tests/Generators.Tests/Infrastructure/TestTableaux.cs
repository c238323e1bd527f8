namespace NeuralOde.Generators.Tests.Infrastructure;

/// <summary>
/// Small, correct tableau declarations for edge cases, each a complete file. The <c>*Members</c> constants are the
/// bodies, for tests that build a variant around them.
/// </summary>
internal static class TestTableaux
{
    /// <summary>The members of Heun–Euler 2(1): two stages, no zero in A, BHat = explicit Euler.</summary>
    public const string HeunEulerMembers = """
            internal static readonly double[] C = [0, 1];
            internal static readonly double[][] A = [[], [1]];
            internal static readonly double[] B = [1.0 / 2, 1.0 / 2];
            internal static readonly double[] BHat = [1, 0];
        """;

    /// <summary>Heun–Euler 2(1) in a file-scoped namespace.</summary>
    public const string HeunEulerFileScoped = $$"""
        using NeuralOde;

        namespace Consumer.Schemes;

        /// <summary>Heun–Euler 2(1).</summary>
        [ButcherTableau("HeunEuler", Order = 2, EmbeddedOrder = 1)]
        public static partial class HeunEuler
        {
        {{HeunEulerMembers}}
        }
        """;

    /// <summary>Heun–Euler 2(1) in a block namespace: must generate exactly what the file-scoped form does.</summary>
    public const string HeunEulerBlockNamespace = """
        using NeuralOde;

        namespace Consumer.Schemes
        {
            /// <summary>Heun–Euler 2(1).</summary>
            [ButcherTableau("HeunEuler", Order = 2, EmbeddedOrder = 1)]
            public static partial class HeunEuler
            {
                internal static readonly double[] C = [0, 1];
                internal static readonly double[][] A = [[], [1]];
                internal static readonly double[] B = [1.0 / 2, 1.0 / 2];
                internal static readonly double[] BHat = [1, 0];
            }
        }
        """;

    /// <summary>Heun–Euler 2(1) in the global namespace.</summary>
    public const string HeunEulerGlobalNamespace = $$"""
        using NeuralOde;

        /// <summary>Heun–Euler 2(1).</summary>
        [ButcherTableau("HeunEuler", Order = 2, EmbeddedOrder = 1)]
        public static partial class HeunEuler
        {
        {{HeunEulerMembers}}
        }
        """;

    /// <summary>Heun–Euler 2(1) nested in a static partial class.</summary>
    public const string HeunEulerNested = """
        using NeuralOde;

        namespace Consumer.Schemes;

        /// <summary>Holds a nested scheme.</summary>
        public static partial class Outer
        {
            /// <summary>Heun–Euler 2(1).</summary>
            [ButcherTableau("HeunEuler", Order = 2, EmbeddedOrder = 1)]
            internal static partial class HeunEuler
            {
                internal static readonly double[] C = [0, 1];
                internal static readonly double[][] A = [[], [1]];
                internal static readonly double[] B = [1.0 / 2, 1.0 / 2];
                internal static readonly double[] BHat = [1, 0];
            }
        }
        """;

    /// <summary>
    /// Heun's third-order method with a second-order embedding: a₃₁ = 0, b₂ = 0 and b̂₃ = 0 must be left out of the step.
    /// </summary>
    public const string Heun3WithZeros = """
        using NeuralOde;

        namespace Consumer.Schemes;

        /// <summary>Heun's third-order method with a second-order embedding.</summary>
        [ButcherTableau("Heun32", Order = 3, EmbeddedOrder = 2)]
        public static partial class Heun32
        {
            internal static readonly double[] C = [0, 1.0 / 3, 2.0 / 3];
            internal static readonly double[][] A =
            [
                [],
                [1.0 / 3],
                [0, 2.0 / 3],
            ];
            internal static readonly double[] B = [1.0 / 4, 0, 3.0 / 4];
            internal static readonly double[] BHat = [-1.0 / 2, 3.0 / 2, 0];
        }
        """;

    /// <summary>The members of Bogacki–Shampine 3(2), an FSAL pair: the last row of A equals B and c₄ = 1.</summary>
    public const string BogackiShampineMembers = """
            internal static readonly double[] C = [0, 1.0 / 2, 3.0 / 4, 1];
            internal static readonly double[][] A =
            [
                [],
                [1.0 / 2],
                [0, 3.0 / 4],
                [2.0 / 9, 1.0 / 3, 4.0 / 9],
            ];
            internal static readonly double[] B = [2.0 / 9, 1.0 / 3, 4.0 / 9, 0];
            internal static readonly double[] BHat = [7.0 / 24, 1.0 / 4, 1.0 / 3, 1.0 / 8];
        """;

    /// <summary>Bogacki–Shampine 3(2): FSAL.</summary>
    public const string BogackiShampine = $$"""
        using NeuralOde;

        namespace Consumer.Schemes;

        /// <summary>Bogacki–Shampine 3(2).</summary>
        [ButcherTableau("BS32", Order = 3, EmbeddedOrder = 2)]
        public static partial class BogackiShampine32
        {
        {{BogackiShampineMembers}}
        }
        """;

    /// <summary>
    /// Bogacki–Shampine 3(2) with dense output: the cubic Hermite interpolant written as bᵢ(θ) polynomials,
    /// b₁(θ) = θ − 4/3 θ² + 5/9 θ³, b₂ = θ² − 2/3 θ³, b₃ = 4/3 θ² − 8/9 θ³, b₄ = −θ² + θ³ (each bᵢ(1) = bᵢ).
    /// </summary>
    public const string BogackiShampineDense = $$"""
        using NeuralOde;

        namespace Consumer.Schemes;

        /// <summary>Bogacki–Shampine 3(2) with dense output.</summary>
        [ButcherTableau("BS32Dense", Order = 3, EmbeddedOrder = 2, DenseOrder = 3)]
        public static partial class BogackiShampineDense
        {
        {{BogackiShampineMembers}}
            internal static readonly double[][] BTheta =
            [
                [1, -4.0 / 3, 5.0 / 9],
                [0, 1, -2.0 / 3],
                [0, 4.0 / 3, -8.0 / 9],
                [0, -1, 1],
            ];
        }
        """;

    /// <summary>The members of the classical fourth-order method: no embedded weights, zeros in A.</summary>
    public const string ClassicRk4Members = """
            internal static readonly double[] C = [0, 1.0 / 2, 1.0 / 2, 1];
            internal static readonly double[][] A =
            [
                [],
                [1.0 / 2],
                [0, 1.0 / 2],
                [0, 0, 1],
            ];
            internal static readonly double[] B = [1.0 / 6, 1.0 / 3, 1.0 / 3, 1.0 / 6];
        """;

    /// <summary>The classical fourth-order method: fixed steps only (RKG011).</summary>
    public const string ClassicRk4 = $$"""
        using NeuralOde;

        namespace Consumer.Schemes;

        /// <summary>The classical fourth-order method.</summary>
        [ButcherTableau("ClassicRK4", Order = 4)]
        public static partial class ClassicRk4
        {
        {{ClassicRk4Members}}
        }
        """;

    /// <summary>Every edge-case source by a short name, for theories.</summary>
    public static IReadOnlyDictionary<string, string> EdgeCases { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["FileScopedNamespace"] = HeunEulerFileScoped,
        ["BlockNamespace"] = HeunEulerBlockNamespace,
        ["GlobalNamespace"] = HeunEulerGlobalNamespace,
        ["NestedType"] = HeunEulerNested,
        ["ZeroCoefficients"] = Heun3WithZeros,
        ["Fsal"] = BogackiShampine,
        ["DenseOutput"] = BogackiShampineDense,
        ["NoBHat"] = ClassicRk4,
    };
}
