using System.Text.Json;
using NeuralOde.Demo.Bench;
using NeuralOde.Solving;
using static TorchSharp.torch;

namespace NeuralOde.Demo.Tests;

/// <summary><c>bench-memory</c>: its problem is solved correctly, one measurement runs in a fresh process, and a
/// failed measurement is a row with a status.</summary>
[Collection("Torch")]
public sealed class BenchMemoryTests
{
    [Fact]
    public void OscillatorsFollowTheirExactSolutionAndASmallBatchIsTheStartOfALargeOne()
    {
        using var small = new HarmonicOscillators(100, ScalarType.Float64);
        using var large = new HarmonicOscillators(1000, ScalarType.Float64);
        Assert.True(small.Omega.eq(large.Omega.narrow(0, 0, 100)).all().item<bool>());
        Assert.True(large.Omega.min().item<double>() >= 0.5 && large.Omega.max().item<double>() < 2);

        using var scope = NewDisposeScope();
        using var solution = Ode.Solve(Schemes.Get("DOPRI5"), large.F, large.Y0, 0.0, 10.0, SolverOptions.Adaptive(1e-9, 1e-9));
        var exact = large.Reference(10.0, 0, 1000);
        Assert.True(solution.Succeeded);
        Assert.True(solution.Y.sub(exact).abs().max().item<double>() < 1e-6);
    }

    [Fact]
    public void OneMeasurementReportsItsMemoryWorkAndError()
    {
        var result = MemoryBench.Measure(new MemoryCase { Rows = 4000 });

        Assert.Equal("ok", result.Status);
        Assert.NotNull(result.BaselineRssBytes);
        Assert.True(result.PeakRssBytes >= result.BaselineRssBytes);
        Assert.Equal((double)(result.PeakRssBytes!.Value - result.BaselineRssBytes!.Value) / 4000, result.BytesPerRow);
        Assert.True(result.StepsAcceptedMin < result.StepsAcceptedMax, "rows with other frequencies take other step counts");
        Assert.True(result.ErrRelL2 < 1e-2, $"error {result.ErrRelL2}");
    }

    [Fact]
    public void AStreamSolvesTheSameRowsAsOneSolve()
    {
        var single = MemoryBench.Measure(new MemoryCase { Rows = 3000 });
        var stream = MemoryBench.Measure(new MemoryCase { Rows = 3000, MaxRowsInFlight = 1000, BatchRows = 700 });

        Assert.Equal("ok", stream.Status);
        Assert.Equal(1000, stream.MaxRowsInFlight);
        Assert.Equal(700, stream.BatchRows);
        Assert.Equal(single.StepsAcceptedMin, stream.StepsAcceptedMin);
        Assert.Equal(single.StepsAcceptedMax, stream.StepsAcceptedMax);
        Assert.True(Math.Abs(stream.ErrRelL2!.Value - single.ErrRelL2!.Value) <= 1e-9 * single.ErrRelL2.Value, $"{stream.ErrRelL2} vs {single.ErrRelL2}");
        Assert.True(stream.Nfe > single.Nfe, "a work set a third of the rows needs more batched calls");
    }

    [Fact]
    public void TheRepeatedSpiralMatchesItsReferenceRowByRow()
    {
        var result = MemoryBench.Measure(new MemoryCase { Problem = MemoryCase.Spiral, Data = BenchFolder.Path, Rows = 600, T1 = 1 });

        Assert.Equal("ok", result.Status);
        Assert.Equal("spiral", result.Problem);
        Assert.True(result.ErrRelL2 < 1e-5, $"error {result.ErrRelL2}");
        Assert.NotNull(result.BytesPerRow);
    }

    [Fact]
    public void TheCommandMeasuresInAFreshProcessAndWritesJson()
    {
        var folder = Directory.CreateTempSubdirectory("neuralode-memory-").FullName;
        try
        {
            var file = Path.Combine(folder, "memory.json");
            var (code, output, error) = DemoCli.Run("bench-memory", "--rows", "2_000,3000", "--repeats", "1", "--max-rows-in-flight", "1000", "--json", file);

            Assert.True(code == 0, error);
            Assert.Contains("B/row", output, StringComparison.Ordinal);
            using var document = JsonDocument.Parse(File.ReadAllText(file));
            var results = document.RootElement.GetProperty("results").EnumerateArray().ToList();
            Assert.Equal([2000L, 3000L], results.Select(static r => r.GetProperty("rows").GetInt64()));
            foreach (var result in results)
            {
                Assert.Equal("ok", result.GetProperty("status").GetString());
                Assert.Equal(1000, result.GetProperty("max_rows_in_flight").GetInt32());
                Assert.True(result.GetProperty("bytes_per_row").GetDouble() > 0);
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void AFailedChildIsARowWithItsReason()
    {
        var bad = new MemoryCase { Rows = 0 };

        var result = MemoryBench.MeasureInFreshProcess(bad, MemoryBench.ChildArguments(bad));

        Assert.StartsWith("error: the measuring process exited with code 2", result.Status, StringComparison.Ordinal);
        Assert.Contains("--rows must be whole numbers of at least 1", result.Status, StringComparison.Ordinal);
        Assert.Null(result.BytesPerRow);
    }

    [Fact]
    public void BadOptionsAreUsageErrors()
    {
        DemoCli.UsageError("--rows must be whole numbers of at least 1; got '1e6'.", "bench-memory", "--rows", "1e6");
        DemoCli.UsageError("has no error estimate", "bench-memory", "--scheme", "RK4");
        DemoCli.UsageError("--problem spiral has its reference at t1 = 1 only; got --t1 2.", "bench-memory", "--problem", "spiral", "--t1", "2");
        DemoCli.UsageError("--problem must be oscillator or spiral; got 'lorenz'.", "bench-memory", "--problem", "lorenz");
    }
}
