using System.Globalization;
using System.Text.Json;
using NeuralOde.Demo.Bench;
using NeuralOde.Modules;
using NeuralOde.Solving;
using TorchSharp;

namespace NeuralOde.Demo.Tests;

/// <summary>
/// <c>bench --out</c> writes the anchor harness's record schema (shared/anchors/README.md, "Comparing another
/// implementation"), checked against excerpts of real torchdiffeq and torchode result files committed in
/// <c>testdata/anchors</c>: the same fields, and records that join with theirs on summarize.py's key.
/// </summary>
[Collection("Torch")]
public sealed class BenchAnchorSchemaTests
{
    // The README's list: "per record at least".
    private static readonly string[] SchemaFields =
    [
        "problem", "method", "rtol", "atol", "steps", "mode", "threads", "time_s", "time_min_s", "floor_s", "overhead",
        "nfe_fwd", "nfe_bwd", "err_rel_l2", "grad_err_rel_l2", "status",
    ];

    // What summarize.py prints for a record that is not an error: these must be numbers.
    private static readonly string[] PrintedNumbers = ["time_s", "overhead", "nfe_fwd"];

    [Fact]
    public void TheExcerptsCarryTheSchemasFields()
    {
        foreach (var name in new[] { "torchdiffeq", "torchode" })
        {
            using var excerpt = Excerpt(name);
            Assert.Equal(name, excerpt.RootElement.GetProperty("library").GetString());
            foreach (var record in excerpt.RootElement.GetProperty("results").EnumerateArray())
            {
                // An error record has only the case's fields; a forward record has no gradient error.
                var ok = record.GetProperty("status").GetString() == "ok";
                var mode = record.GetProperty("mode").GetString();
                foreach (var field in SchemaFields.Where(f => ok ? !(f == "grad_err_rel_l2" && mode == "fwd") : f is "problem" or "method" or "rtol" or "steps" or "mode" or "threads" or "status"))
                {
                    Assert.True(record.TryGetProperty(field, out _), $"{name} record without '{field}'");
                }
            }
        }
    }

    [Fact]
    public void ForwardRecordsHaveEveryFieldAndJoinTorchdiffeqsAndTorchodes()
    {
        var runner = new BenchRunner(repeats: 1, warmup: 0);
        using var problem = BenchData.LoadProblem(BenchFolder.Path, "mlp_d64_h64_b1024");
        using var dynamics = BenchDynamics.Create(problem);
        var adaptive = runner.Run(problem, dynamics, new BenchCase { Scheme = Schemes.Get("DOPRI5") });
        var fixedSteps = runner.Run(problem, dynamics, new BenchCase { Scheme = Schemes.Get("ThreeEighths"), FixedSteps = 25 });

        var records = Written(AnchorRecord.FromForward(adaptive, threads: 1), AnchorRecord.FromForward(fixedSteps, threads: 1));

        foreach (var record in records)
        {
            AssertSchema(record);
            Assert.Equal("ok", record.GetProperty("status").GetString());
            Assert.Equal("fwd", record.GetProperty("mode").GetString());
            Assert.Equal(0, record.GetProperty("nfe_bwd").GetInt64());
            Assert.Equal(JsonValueKind.Null, record.GetProperty("grad_err_rel_l2").ValueKind);
            Assert.True(record.GetProperty("err_rel_l2").GetDouble() < 1e-3);
        }

        // The solver loop's counters: every row's step attempt is one iteration, and each iteration reads the norms once.
        var iterations = records[0].GetProperty("iterations").GetInt64();
        Assert.True(iterations >= records[0].GetProperty("steps_accepted_max").GetInt64() + records[0].GetProperty("steps_rejected_max").GetInt64());
        Assert.True(records[0].GetProperty("host_reads_per_iteration").GetDouble() >= 1);
        Assert.True(records[0].GetProperty("tensors_per_iteration").GetDouble() > 0);
        Assert.Equal(("mlp_d64_h64_b1024", "dopri5", "1e-03", "fwd", 1), Key(records[0]));
        Assert.Equal(("mlp_d64_h64_b1024", "rk4", "N=25", "fwd", 1), Key(records[1]));
        Assert.Equal(JsonValueKind.Null, records[1].GetProperty("rtol").ValueKind);
        Assert.Contains(Key(records[0]), Keys("torchdiffeq"));
        Assert.Contains(Key(records[0]), Keys("torchode"));
        Assert.Contains(Key(records[1]), Keys("torchdiffeq"));
    }

    [Fact]
    public void GradientRecordsHaveEveryFieldAndJoinTheAnchorsBpttAndAdjoint()
    {
        using var problem = BenchData.LoadProblem(BenchFolder.Path, "mlp_d64_h64_b1024");
        var options = SolverOptions.Adaptive(1e-3, 1e-6);
        var backprop = GradientBench.Run(problem, Schemes.Get("DOPRI5"), GradientMode.Backprop, options, torch.ScalarType.Float32, repeats: 1);
        var adjoint = GradientBench.Run(problem, Schemes.Get("DOPRI5"), GradientMode.Adjoint, options, torch.ScalarType.Float32, repeats: 1);

        var records = Written(AnchorRecord.FromGradient(backprop, threads: 1), AnchorRecord.FromGradient(adjoint, threads: 1));

        foreach (var record in records)
        {
            AssertSchema(record);
            Assert.Equal("ok", record.GetProperty("status").GetString());
            Assert.True(record.GetProperty("floor_s").GetDouble() > 0);
            Assert.True(record.GetProperty("grad_err_rel_l2").GetDouble() < 1e-4);
            Assert.True(record.GetProperty("err_rel_l2").GetDouble() < 1e-4);
            Assert.Equal(1, record.GetProperty("time_all_s").GetArrayLength());
        }

        Assert.Equal(0, records[0].GetProperty("nfe_bwd").GetInt64());
        Assert.True(records[1].GetProperty("nfe_bwd").GetInt64() > 0);
        Assert.Equal(("mlp_d64_h64_b1024", "dopri5", "1e-03", "bptt", 1), Key(records[0]));
        Assert.Equal(("mlp_d64_h64_b1024", "dopri5", "1e-03", "adjoint", 1), Key(records[1]));
        Assert.Contains(Key(records[0]), Keys("torchdiffeq"));
        Assert.Contains(Key(records[1]), Keys("torchdiffeq"));
        Assert.Contains(Key(records[1]), Keys("torchode")); // its JointBacksolveAdjoint, as summarize.py lines them up
    }

    [Fact]
    public void AnotherEndTimeIsAnotherProblem()
    {
        using var problem = BenchData.LoadProblem(BenchFolder.Path, "spiral_d2_h64_b256");
        var result = GradientBench.Run(problem, Schemes.Get("DOPRI5"), GradientMode.Backprop, SolverOptions.Adaptive(), torch.ScalarType.Float32, repeats: 1, t1: 2);

        var record = AnchorRecord.FromGradient(result, threads: 1);

        Assert.Equal("spiral_d2_h64_b256@t1=2", record.Problem);
        Assert.Null(record.GradErrRelL2);
    }

    [Fact]
    public void OnlyASolveWhoseRowsAllSucceededIsOk()
    {
        Assert.Equal("ok", AnchorRecord.StatusOf(new Dictionary<string, long> { ["Success"] = 8 }, 8, 1e-6));
        Assert.Equal(
            "error: ReachedMaxSteps on 3 of 8 rows",
            AnchorRecord.StatusOf(new Dictionary<string, long> { ["Success"] = 5, ["ReachedMaxSteps"] = 3 }, 8, 1e-6));
        Assert.StartsWith(
            "diverged (non-finite y(t1): NonFinite on 1 of 8 rows",
            AnchorRecord.StatusOf(new Dictionary<string, long> { ["Success"] = 7, ["NonFinite"] = 1 }, 8, 1e-6),
            StringComparison.Ordinal);
        Assert.StartsWith("diverged", AnchorRecord.StatusOf(new Dictionary<string, long> { ["Success"] = 8 }, 8, double.PositiveInfinity), StringComparison.Ordinal);
    }

    [Fact]
    public void AnUntimedCaseIsAnErrorNotAZeroTime()
    {
        var once = new BenchRunner(repeats: 0, warmup: 0);
        using var problem = BenchData.LoadProblem(BenchFolder.Path, "expdecay");
        using var dynamics = BenchDynamics.Create(problem);

        var record = AnchorRecord.FromForward(once.Run(problem, dynamics, new BenchCase { Scheme = Schemes.Get("DOPRI5") }), threads: 1);

        Assert.StartsWith("error", record.Status, StringComparison.Ordinal);
        Assert.Null(record.TimeS);
        Assert.Null(record.Overhead);
    }

    [Fact]
    public void OverheadIsTheMedianOfPairwiseRatios()
    {
        // Ratios 2, 4, 3: median 3, whereas median(times) / median(floors) would be 4 / 1.5.
        Assert.Equal(3.0, AnchorRecord.PairwiseOverhead([2.0, 4.0, 6.0], [1.0, 1.0, 2.0]));
        Assert.Null(AnchorRecord.PairwiseOverhead([], []));
    }

    [Fact]
    public void MethodNamesAreTorchdiffeqsAndNeverJoinADifferentMethod()
    {
        Assert.Equal("dopri5", AnchorMethods.For("DOPRI5"));
        Assert.Equal("tsit5", AnchorMethods.For("Tsit5"));
        Assert.Equal("bosh3", AnchorMethods.For("BS32"));
        Assert.Equal("rk4", AnchorMethods.For("ThreeEighths")); // torchdiffeq's rk4 is the 3/8 rule
        Assert.NotEqual("rk4", AnchorMethods.For("RK4"));
        Assert.Equal("rkf45", AnchorMethods.For("RKF45"));    // not torchdiffeq's fehlberg2

        var names = Schemes.All.Select(static s => AnchorMethods.For(s.Name)).ToList();
        Assert.Equal(names.Count, names.Distinct(StringComparer.Ordinal).Count());
        Assert.All(names, static n => Assert.Equal(n.ToLowerInvariant(), n));
    }

    [Fact]
    public void TheCommandWritesTheFileAtomicallyWithTheLibrarysName()
    {
        var folder = Directory.CreateTempSubdirectory("neuralode-anchors-").FullName;
        try
        {
            var file = Path.Combine(folder, "ours.json");
            var (code, output, error) = DemoCli.Run("bench", "--data", BenchFolder.Path, "-p", "expdecay", "-s", "DOPRI5", "--repeats", "1", "--warmup", "0", "--out", file);

            Assert.True(code == 0, error);
            Assert.Contains("Anchor-schema records written to", output, StringComparison.Ordinal);
            Assert.Equal(["ours.json"], Directory.GetFiles(folder).Select(Path.GetFileName)); // no temporary left
            using var document = JsonDocument.Parse(File.ReadAllText(file));
            Assert.Equal("neuralode", document.RootElement.GetProperty("library").GetString());
            var record = Assert.Single(document.RootElement.GetProperty("results").EnumerateArray());
            AssertSchema(record);
            Assert.Equal(("expdecay", "dopri5", "1e-03", "fwd", 1), Key(record));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static void AssertSchema(JsonElement record)
    {
        foreach (var field in SchemaFields)
        {
            Assert.True(record.TryGetProperty(field, out _), $"record without '{field}'");
        }

        foreach (var field in PrintedNumbers)
        {
            Assert.Equal(JsonValueKind.Number, record.GetProperty(field).ValueKind);
        }
    }

    // Serializes the records as bench --out does and reads them back.
    private static List<JsonElement> Written(params AnchorRecord[] records)
    {
        var report = new AnchorReport
        {
            Version = "test",
            Arguments = [],
            StartedUtc = "2026-01-01T00:00:00Z",
            Machine = Machine.Describe(),
            Results = [.. records],
        };
        using var document = JsonDocument.Parse(JsonSerializer.Serialize(report, BenchJsonContext.Default.AnchorReport));
        Assert.Equal("neuralode", document.RootElement.GetProperty("library").GetString());
        return [.. document.RootElement.GetProperty("results").EnumerateArray().Select(static r => r.Clone())];
    }

    // summarize.py's key(): (problem, method, f"{rtol:.0e}" or f"N={steps}", mode + "-BS" for torchode's
    // BacksolveAdjoint, threads).
    private static (string Problem, string Method, string Tolerance, string Mode, int Threads) Key(JsonElement r)
    {
        var tolerance = r.TryGetProperty("rtol", out var rtol) && rtol.ValueKind == JsonValueKind.Number
            ? rtol.GetDouble().ToString("0e+00", CultureInfo.InvariantCulture)
            : "N=" + r.GetProperty("steps").GetRawText();
        var mode = r.GetProperty("mode").GetString()!;
        if (r.TryGetProperty("adjoint", out var adjoint) && adjoint.ValueKind == JsonValueKind.String && adjoint.GetString() == "backsolve")
        {
            mode += "-BS";
        }

        return (r.GetProperty("problem").GetString()!, r.GetProperty("method").GetString()!, tolerance, mode, r.GetProperty("threads").GetInt32());
    }

    private static List<(string, string, string, string, int)> Keys(string library)
    {
        using var excerpt = Excerpt(library);
        return [.. excerpt.RootElement.GetProperty("results").EnumerateArray().Select(Key)];
    }

    private static JsonDocument Excerpt(string library) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(TestData.RepositoryRoot, "testdata", "anchors", $"{library}-excerpt.json")));
}
