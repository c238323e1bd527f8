using System.Runtime.CompilerServices;
using NeuralOde.Modules;
using NeuralOde.Solving;
using static TorchSharp.torch;

namespace NeuralOde.Tests;

/// <summary>The README's snippet for people coming from torchdiffeq and torchode: it lives here, runs here, and the
/// README holds it verbatim (checked below).</summary>
[Collection("Torch")]
public sealed class PythonUsersSnippetTests
{
    private const string Begin = "// README snippet: begin";
    private const string End = "// README snippet: end";

    [Fact]
    public void Snippet_Runs()
    {
        using var scope = NewDisposeScope();
        random.manual_seed(1);

        // README snippet: begin
        // torchdiffeq: ys = odeint(func, y0, t, rtol=1e-6, atol=1e-8, method="dopri5")    # ys: [T, B, D]
        var func = new MlpDynamics(dim: 2, width: 50);
        var block = new OdeBlock(func, Schemes.Get("dopri5"), SolverOptions.Adaptive(rtol: 1e-6, atol: 1e-8));
        var y0 = randn(16, 2);                                   // [B, D]
        var t = linspace(0.0, 2.0, 20);                          // [T]
        var ys = block.Trajectory(y0, t);                        // [B, T, D]: torchdiffeq's ys[j] is ys[:, j]

        // torchdiffeq: odeint_adjoint(func, y0, t), then loss.backward()
        block.GradientMode = GradientMode.Adjoint;
        var loss = block.Trajectory(y0, t).abs().mean();
        loss.backward();                                         // func.parameters() have .grad

        // torchode: t_start, t_end and t_eval per sample: a [B, T] grid, each row its own span and times
        var tEval = linspace(0.0, 1.0, 5).repeat(16, 1).add(rand(16, 1));   // [B, T]
        var yEval = block.Trajectory(y0, tEval);                 // [B, T, D]

        // A plain function instead of a module; solution.Y is torchdiffeq's ys[-1]
        using var solution = Ode.Solve("dopri5", (time, y) => y.neg(), y0, 0.0, 2.0,
            SolverOptions.Adaptive(1e-6, 1e-8) with { OutputTimes = t });
        var last = solution.Y;                                   // [B, D]; solution.Ys: [B, T, D]
        // README snippet: end

        Assert.Equal([16L, 20, 2], ys.shape);
        Assert.True(ys.select(1, 0).eq(y0).all().item<bool>());
        Assert.All(func.parameters(), static p => Assert.True(p.grad is not null && p.grad.abs().sum().item<float>() > 0));
        Assert.Equal([16L, 5, 2], yEval.shape);
        Assert.Equal([16L, 20, 2], solution.Ys!.shape);
        Assert.True(last.allclose(y0.mul(Math.Exp(-2.0)), rtol: 1e-4, atol: 1e-5));
    }

    [Fact]
    public void Readme_HoldsTheSnippetVerbatim()
    {
        var source = File.ReadAllLines(ThisFile());
        var start = Array.FindIndex(source, static l => l.Trim() == Begin);
        var end = Array.FindIndex(source, static l => l.Trim() == End);
        Assert.True(start > 0 && end > start, "the snippet markers are missing");
        var indent = source[start].Length - source[start].TrimStart().Length;
        var snippet = string.Join('\n', source[(start + 1)..end].Select(l => l.Length >= indent ? l[indent..] : l.TrimStart()));

        var readme = File.ReadAllText(Path.Combine(Path.GetDirectoryName(ThisFile())!, "..", "..", "README.md")).Replace("\r\n", "\n");
        Assert.Contains("```csharp\n" + snippet + "\n```", readme, StringComparison.Ordinal);
    }

    private static string ThisFile([CallerFilePath] string path = "") => path;
}
