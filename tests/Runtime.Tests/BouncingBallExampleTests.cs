using NeuralOde.Tests.Examples;

namespace NeuralOde.Tests;

/// <summary>docs/events.md's bouncing-ball example: its code is this project's, and its bounce times are the analytic ones.</summary>
[Collection("Torch")]
public sealed class BouncingBallExampleTests
{
    [Fact]
    public void BounceTimes_MatchTheAnalyticTimes()
    {
        // From rest at h: the first impact at t₁ = sqrt(2h/g); each flight after bounce k lasts 2·eᵏ·t₁.
        double[] heights = [1.0, 5.0, 12.0];
        const double Restitution = 0.8;
        var times = BouncingBall.BounceTimes(heights, Restitution, bounces: 5);
        for (var row = 0; row < heights.Length; row++)
        {
            var first = Math.Sqrt(2 * heights[row] / 9.81);
            var expected = first;
            for (var k = 0; k < 5; k++)
            {
                Assert.True(Math.Abs(times[row][k] - expected) <= 1e-9 * Math.Max(1, expected), $"ball {row}, bounce {k}: {times[row][k]:R} vs {expected:R}");
                expected += 2 * Math.Pow(Restitution, k + 1) * first;
            }
        }
    }

    [Fact]
    public void DocsPage_ShowsTheExampleAsItIs()
    {
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "NeuralOde.sln")))
        {
            root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("The repository root was not found.");
        }

        var page = File.ReadAllText(Path.Combine(root, "docs", "events.md")).ReplaceLineEndings("\n");
        var code = File.ReadAllText(Path.Combine(root, "tests", "Runtime.Tests", "Examples", "BouncingBall.cs")).ReplaceLineEndings("\n");
        Assert.Contains("```csharp\n" + code + "```", page, StringComparison.Ordinal);
    }
}
