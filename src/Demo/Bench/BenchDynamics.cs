using TorchSharp;
using static TorchSharp.torch;

namespace NeuralOde.Demo.Bench;

/// <summary>
/// The right-hand side of a benchmark problem (PROBLEMS.md), ready for the solver: <c>f(t [n], y [n, D], rows [n])</c>
/// and the initial state.
/// </summary>
/// <remarks>
/// <para>Once rows finish, the solver calls <c>f</c> on the running rows only and passes their indices in the batch;
/// the stiff problem uses them to pick each row's rate λ.</para>
/// <para>All tensors are owned by this object and detached from dispose scopes; <c>f</c>'s temporaries belong to
/// whatever scope is current when it runs (the solver opens one per step).</para>
/// </remarks>
internal sealed class BenchDynamics : IDisposable
{
    // Arenstorf: HNW I, §II.0.
    private const double ArenstorfMu = 0.012277471;

    private static readonly Scalar One = 1.0.ToScalar();
    private static readonly Scalar Two = 2.0.ToScalar();
    private static readonly Scalar MinusTwo = (-2.0).ToScalar();
    private static readonly Scalar ThreeHalves = 1.5.ToScalar();
    private static readonly Scalar Mu = ArenstorfMu.ToScalar();
    private static readonly Scalar MuPrime = (1 - ArenstorfMu).ToScalar();

    private readonly List<Tensor> owned = [];

    private BenchDynamics(string kind, ScalarType dtype, int stateWidth)
    {
        Kind = kind;
        DType = dtype;
        StateWidth = stateWidth;
        F = static (_, _, _) => throw new InvalidOperationException("Dynamics not initialised.");
        Y0 = null!;
    }

    /// <summary>Gets the problem kind.</summary>
    public string Kind { get; }

    /// <summary>Gets the dtype the dynamics and state use.</summary>
    public ScalarType DType { get; }

    /// <summary>Gets the problem's state width D.</summary>
    public int StateWidth { get; }

    /// <summary>Gets the right-hand side: <c>t</c> <c>[n]</c>, <c>y</c> <c>[n, D]</c> and the rows' indices in the
    /// batch <c>[n]</c> → dy/dt <c>[n, D]</c>, for any n ≤ B.</summary>
    public Func<Tensor, Tensor, Tensor, Tensor> F { get; private set; }

    /// <summary>Gets the initial state, <c>[B, D]</c>.</summary>
    public Tensor Y0 { get; private set; }

    /// <summary>Builds the dynamics of a loaded problem in the given dtype (weights and state converted).</summary>
    /// <param name="problem">The problem.</param>
    /// <param name="dtype">float32 or float64; null for the problem's own dtype.</param>
    /// <returns>The dynamics; the caller disposes it.</returns>
    /// <exception cref="BenchDataException">The problem's kind is unknown or its tensors do not fit it.</exception>
    public static BenchDynamics Create(BenchProblem problem, ScalarType? dtype = null)
    {
        ArgumentNullException.ThrowIfNull(problem);
        var type = dtype ?? problem.DType;
        var width = problem.Header.Spec.D;
        var dynamics = new BenchDynamics(problem.Kind, type, width);
        try
        {
            using var scope = NewDisposeScope();
            dynamics.Build(problem);
            return dynamics;
        }
        catch
        {
            dynamics.Dispose();
            throw;
        }
    }

    /// <summary>Disposes the owned tensors.</summary>
    public void Dispose()
    {
        foreach (var tensor in owned)
        {
            tensor.Dispose();
        }

        owned.Clear();
    }

    private Tensor Own(Tensor tensor)
    {
        var kept = tensor.DetachFromDisposeScope();
        owned.Add(kept);
        return kept;
    }

    private Tensor Param(BenchProblem problem, string name) => Own(problem[name].to(DType).contiguous().clone());

    private void Build(BenchProblem problem)
    {
        var y0 = problem["y0"];
        if (y0.dim() != 2 || y0.shape[1] != StateWidth)
        {
            throw new BenchDataException($"Problem '{problem.Name}': y0 has shape [{string.Join(", ", y0.shape)}], expected [B, {StateWidth}].");
        }

        switch (Kind)
        {
            case "mlp":
            {
                var w1 = Param(problem, "W1");
                var b1 = Param(problem, "b1");
                var w2 = Param(problem, "W2");
                var b2 = Param(problem, "b2");
                Y0 = Param(problem, "y0");
                F = (_, y, _) =>
                {
                    var hidden = nn.functional.linear(y, w1, b1).tanh_();
                    return nn.functional.linear(hidden, w2, b2);
                };
                break;
            }

            case "mlpt":
            {
                // f = tanh(y·W1[:, :D]ᵀ + t·W1[:, D] + b1)·W2ᵀ + b2, with t a column of per-row times.
                var w1 = problem["W1"];
                if (w1.dim() != 2 || w1.shape[1] != StateWidth + 1)
                {
                    throw new BenchDataException($"Problem '{problem.Name}': W1 has shape [{string.Join(", ", w1.shape)}], expected [H, D + 1].");
                }

                var w1y = Own(w1.narrow(1, 0, StateWidth).to(DType).contiguous().clone());
                var w1t = Own(w1.select(1, StateWidth).to(DType).contiguous().clone());
                var b1 = Param(problem, "b1");
                var w2 = Param(problem, "W2");
                var b2 = Param(problem, "b2");
                Y0 = Param(problem, "y0");
                F = (t, y, _) =>
                {
                    var hidden = nn.functional.linear(y, w1y, b1).addr_(t, w1t).tanh_();
                    return nn.functional.linear(hidden, w2, b2);
                };
                break;
            }

            case "stiff":
            {
                // f = −λ·(y − 1), with each row's own λ (the solver passes the rows it evaluates).
                var lam = problem["lam"];
                if (lam.dim() != 1 || lam.shape[0] != y0.shape[0])
                {
                    throw new BenchDataException($"Problem '{problem.Name}': lam has shape [{string.Join(", ", lam.shape)}], expected [B] = [{y0.shape[0]}].");
                }

                var rates = Own(lam.to(DType).contiguous().clone());
                Y0 = Param(problem, "y0");
                F = (_, y, rows) => y.sub(One).mul_(rates.index_select(0, rows).unsqueeze(1)).neg_();
                break;
            }

            case "expdecay":
                Y0 = Param(problem, "y0");
                F = static (_, y, _) => y.neg();
                break;

            case "arenstorf":
                if (StateWidth != 4)
                {
                    throw new BenchDataException($"Problem '{problem.Name}': Arenstorf needs D = 4, got {StateWidth}.");
                }

                Y0 = Param(problem, "y0");
                F = static (_, y, _) => Arenstorf(y);
                break;

            default:
                throw new BenchDataException($"Problem '{problem.Name}' has kind '{Kind}', which this program does not know (mlp, mlpt, stiff, expdecay, arenstorf).");
        }
    }

    // (y1, y2, y1', y2') → (y1', y2', y1 + 2y2' − μ'(y1+μ)/D1 − μ(y1−μ')/D2, y2 − 2y1' − μ'y2/D1 − μy2/D2).
    private static Tensor Arenstorf(Tensor y)
    {
        var y1 = y.select(1, 0);
        var y2 = y.select(1, 1);
        var v1 = y.select(1, 2);
        var v2 = y.select(1, 3);
        var a = y1.add(Mu);
        var b = y1.sub(MuPrime);
        var y2Squared = y2.square();
        var d1 = a.square().add_(y2Squared).pow_(ThreeHalves);
        var d2 = b.square().add_(y2Squared).pow_(ThreeHalves);
        var pull1 = a.div(d1).mul_(MuPrime);
        var pull2 = b.div(d2).mul_(Mu);
        var f3 = y1.add(v2, Two).sub_(pull1).sub_(pull2);
        var over = d1.reciprocal().mul_(MuPrime).add_(d2.reciprocal().mul_(Mu));
        var f4 = y2.add(v1, MinusTwo).sub_(y2.mul(over));
        return torch.stack([v1, v2, f3, f4], 1);
    }
}
