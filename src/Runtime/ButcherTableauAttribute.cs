namespace NeuralOde;

/// <summary>
/// Declares an explicit Runge–Kutta scheme by its Butcher tableau. The NeuralOde source generator compiles the
/// marked <c>static partial class</c> into an unrolled, batched tensor step (see <see cref="Stepping.RungeKuttaScheme"/>).
/// </summary>
/// <remarks>
/// <para>The class holds the tableau as printed in the paper, as <c>static readonly</c> fields of any accessibility:</para>
/// <list type="bullet">
/// <item><c>double[] C</c>: all nodes, <c>C[0] == 0</c>.</item>
/// <item><c>double[][] A</c>: jagged rows, row <c>i</c> has <c>i</c> entries (the first row is empty).</item>
/// <item><c>double[] B</c>: weights of the propagated solution, of order <see cref="Order"/>.</item>
/// <item><c>double[] BHat</c> (optional): weights of the embedded solution, of order <see cref="EmbeddedOrder"/>;
/// without it the scheme supports fixed steps only.</item>
/// <item><c>double[][] BTheta</c> (optional): dense output of order <see cref="DenseOrder"/>; row <c>i</c> lists the
/// coefficients of θ¹, θ², … in the polynomial b<sub>i</sub>(θ), so that b<sub>i</sub>(0) = 0 and b<sub>i</sub>(1) = B[i].
/// One row more than there are stages weights the end slope f(t + h, y₁) (which the solver evaluates anyway as the
/// next step's first stage), with b<sub>s+1</sub>(1) = 0.</item>
/// <item><c>double[] CDense</c> and <c>double[][] ADense</c> (optional, both or neither): the dense output's extra
/// stages, evaluated only in a step that holds an output time. Dense stage m (zero-based) has the node <c>CDense[m]</c>
/// and the row <c>ADense[m]</c> of s + m entries, which weights the s stages and the dense stages before it and sums to
/// its node. <c>BTheta</c> then has one row per stage and one per dense stage (each dense stage's row with
/// b<sub>s+m+1</sub>(1) = 0), and the dense order is checked with them.</item>
/// </list>
/// <para>Coefficients are C# constant expressions such as <c>3.0 / 32</c>. When an expression is rational
/// arithmetic on integer-valued literals, the generator keeps the exact fraction and checks the order conditions
/// exactly; otherwise it checks them to a tight tolerance. Integer division (<c>1 / 4</c>) is an error.</para>
/// </remarks>
/// <param name="name">The scheme's name, unique within a compilation and looked up case-insensitively.</param>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class ButcherTableauAttribute(string name) : Attribute
{
    /// <summary>Gets the scheme's name, for example <c>"RKF45"</c>.</summary>
    public string Name { get; } = name;

    /// <summary>Gets or sets the order of the propagated solution (the weights <c>B</c>). Required.</summary>
    public int Order { get; set; }

    /// <summary>Gets or sets the order of the embedded solution (the weights <c>BHat</c>). Required when
    /// <c>BHat</c> is declared.</summary>
    public int EmbeddedOrder { get; set; }

    /// <summary>Gets or sets the order of the dense output (the polynomials <c>BTheta</c>): the generator checks
    /// Σ b<sub>i</sub>(θ) Φ<sub>i</sub>(t) = θ<sup>|t|</sup>/γ(t) for every rooted tree t up to it. With
    /// <c>BTheta</c>; at most <see cref="Order"/>. Left unset, no order is claimed and only b<sub>i</sub>(1) = B[i] is checked.</summary>
    public int DenseOrder { get; set; }
}
