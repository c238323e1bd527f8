using NeuralOde.Stepping;

namespace NeuralOde.Tests;

/// <summary>The built-in schemes as xunit theory data.</summary>
public static class TestSchemes
{
    public static IReadOnlyList<RungeKuttaScheme> BuiltIn =>
        [.. Schemes.All.Where(static s => s.GetType().Assembly == typeof(Schemes).Assembly)];

    public static TheoryData<string> All()
    {
        var data = new TheoryData<string>();
        foreach (var scheme in BuiltIn)
        {
            data.Add(scheme.Name);
        }

        return data;
    }

    public static TheoryData<string> Adaptive()
    {
        var data = new TheoryData<string>();
        foreach (var scheme in BuiltIn.Where(static s => s.HasErrorEstimate))
        {
            data.Add(scheme.Name);
        }

        return data;
    }
}
