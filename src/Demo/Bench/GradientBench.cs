using System.Diagnostics;
using System.Globalization;
using NeuralOde.Demo.Cli;
using NeuralOde.Modules;
using NeuralOde.Solving;
using NeuralOde.Stepping;
using Spectre.Console;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NeuralOde.Demo.Bench;

/// <summary>
/// A benchmark MLP problem's dynamics as a module with trainable parameters <c>W1, b1, W2, b2</c>
/// (PROBLEMS.md: <c>f = tanh(y·W1ᵀ + b1)·W2ᵀ + b2</c>; with a time column for <c>mlpt</c>).
/// </summary>
internal sealed class BenchMlp : OdeFunc
{
    private readonly Parameter w1;
    private readonly Parameter b1;
    private readonly Parameter w2;
    private readonly Parameter b2;
    private readonly bool timeColumn;

    /// <summary>Creates the module from a loaded problem.</summary>
    /// <param name="problem">An <c>mlp</c> or <c>mlpt</c> problem.</param>
    /// <param name="dtype">The dtype to compute in.</param>
    public BenchMlp(BenchProblem problem, ScalarType dtype)
        : base(nameof(BenchMlp))
    {
        if (problem.Kind is not ("mlp" or "mlpt"))
        {
            throw new BenchDataException($"Problem '{problem.Name}' is of kind '{problem.Kind}'; gradients are defined for the MLP problems only.");
        }

        timeColumn = problem.Kind == "mlpt";
        w1 = new Parameter(problem["W1"].to(dtype).clone());
        b1 = new Parameter(problem["b1"].to(dtype).clone());
        w2 = new Parameter(problem["W2"].to(dtype).clone());
        b2 = new Parameter(problem["b2"].to(dtype).clone());
        RegisterComponents();
    }

    /// <summary>Gets the parameters in the reference files' order: W1, b1, W2, b2.</summary>
    public IReadOnlyList<Parameter> Ordered => [w1, b1, w2, b2];

    /// <summary>Evaluates dy/dt.</summary>
    /// <param name="t">Each row's time, <c>[B]</c>.</param>
    /// <param name="y">The state, <c>[B, D]</c>.</param>
    /// <returns>dy/dt, <c>[B, D]</c>.</returns>
    public override Tensor forward(Tensor t, Tensor y)
    {
        using var scope = NewDisposeScope();
        var input = timeColumn ? cat([y, t.unsqueeze(1)], 1) : y;
        var hidden = nn.functional.linear(input, w1, b1).tanh();
        return nn.functional.linear(hidden, w2, b2).MoveToOuterDisposeScope();
    }
}

/// <summary>One gradient benchmark case's measurements.</summary>
internal sealed record GradientResult
{
    /// <summary>Gets the problem's name.</summary>
    public required string Problem { get; init; }

    /// <summary>Gets the scheme's name.</summary>
    public required string Scheme { get; init; }

    /// <summary>Gets the gradient mode: backprop, adjoint or checkpointed.</summary>
    public required string Mode { get; init; }

    /// <summary>Gets the dtype.</summary>
    public required string DType { get; init; }

    /// <summary>Gets the median forward time in milliseconds.</summary>
    public double ForwardMs { get; init; }

    /// <summary>Gets the median backward time in milliseconds.</summary>
    public double BackwardMs { get; init; }

    /// <summary>Gets the median backward time in milliseconds of the calling thread's CPU (steadier than wall time on a
    /// shared machine: with one libtorch thread the whole backward pass runs on the calling thread).</summary>
    public double BackwardCpuMs { get; init; }

    /// <summary>Gets the forward solve's batched dynamics calls.</summary>
    public long ForwardNfe { get; init; }

    /// <summary>Gets the backward pass's batched dynamics calls (0 for backprop, which replays the graph).</summary>
    public long BackwardNfe { get; init; }

    /// <summary>Gets the relative L2 error of the loss's parameter gradient [W1, b1, W2, b2] against the reference
    /// (NaN when the end time was overridden, which the reference is not for).</summary>
    public double GradientError { get; init; }

    /// <summary>Gets the end time integrated to.</summary>
    public double T1 { get; init; }

    /// <summary>Gets whether <see cref="T1"/> replaces the problem's own end time (the references do not apply).</summary>
    public bool EndTimeOverridden { get; init; }

    /// <summary>Gets the most accepted steps of any row in the forward solve.</summary>
    public long AcceptedSteps { get; init; }

    /// <summary>Gets the relative tolerance of an adaptive forward solve, or null for fixed steps.</summary>
    public double? RelativeTolerance { get; init; }

    /// <summary>Gets the absolute tolerance of an adaptive forward solve, or null for fixed steps.</summary>
    public double? AbsoluteTolerance { get; init; }

    /// <summary>Gets the number of equal fixed steps, or null for an adaptive solve.</summary>
    public int? FixedSteps { get; init; }

    /// <summary>Gets the batch size B.</summary>
    public long Rows { get; init; }

    /// <summary>Gets the state width D.</summary>
    public long StateWidth { get; init; }

    /// <summary>Gets every timed pass's forward time in milliseconds.</summary>
    public double[] ForwardAllMs { get; init; } = [];

    /// <summary>Gets every timed pass's forward + backward time in milliseconds.</summary>
    public double[] TotalMs { get; init; } = [];

    /// <summary>Gets the floor replayed right after each timed pass, in milliseconds: the pass's dynamics evaluations
    /// alone on the same batch (<see cref="GradientBench"/> says which).</summary>
    public double[] FloorMs { get; init; } = [];

    /// <summary>Gets <c>‖y(t1) − ref‖₂ / ‖ref‖₂</c> of the first pass's forward state (NaN when the end time was
    /// overridden).</summary>
    public double ErrRelL2 { get; init; } = double.NaN;

    /// <summary>Gets /proc/loadavg's 1-minute load average right after the case, or null.</summary>
    public double? LoadAverage1Min { get; init; }

    /// <summary>Gets why the case failed (<c>error: …</c>), or null when it ran.</summary>
    public string? Failure { get; init; }

    /// <summary>Gets the peak resident memory of the first forward + backward pass above the memory resident before
    /// it, in MB (Linux's VmHWM, reset before the pass; NaN where /proc is not available). Run one mode per process
    /// for numbers that do not reuse memory an earlier case left resident.</summary>
    public double PeakMemoryMb { get; init; }
}

/// <summary>
/// Times forward and backward passes of <see cref="OdeBlock"/> on a benchmark MLP problem with loss
/// <c>L = 0.5·mean(y(t1)²)</c> and compares the parameter gradient with the problem's reference.
/// </summary>
/// <remarks>
/// Each timed pass is followed at once by its floor, the pass's dynamics evaluations alone on the same batch (as the
/// anchor harness's <c>make_floor_fn</c> does, so that a drift of the machine's speed affects both alike):
/// <list type="bullet">
/// <item>backprop: the forward NFE evaluations recorded by autograd, then one backward pass through all of them;</item>
/// <item>adjoint: the forward NFE evaluations without a graph, then the backward NFE evaluations each with one
/// vector–Jacobian product with respect to the state and the parameters;</item>
/// <item>checkpointed: the forward NFE evaluations without a graph, then the backward NFE evaluations recorded by
/// autograd and one backward pass through them (the anchors have no such mode).</item>
/// </list>
/// </remarks>
internal static class GradientBench
{
    /// <summary>Runs one case.</summary>
    /// <param name="problem">The MLP problem.</param>
    /// <param name="scheme">The scheme.</param>
    /// <param name="mode">Backprop, adjoint or checkpointed.</param>
    /// <param name="options">The forward solve's options.</param>
    /// <param name="dtype">The dtype to compute in.</param>
    /// <param name="repeats">Timed repeats (the median is reported); 0 measures only the work and the error.</param>
    /// <param name="t1">An end time replacing the problem's, or null.</param>
    /// <param name="anchorRepeats">Whether the timed repeats follow the anchors' rule (<see cref="AnchorTiming"/>) from
    /// the first pass's time (forward and backward).</param>
    /// <param name="slowRepeats">Under the anchors' rule, the most repeats of a slow case.</param>
    /// <returns>The measurements; a forward solve that fails (the block throws <see cref="OdeSolverException"/>)
    /// gives a result whose <see cref="GradientResult.Failure"/> says why.</returns>
    public static GradientResult Run(BenchProblem problem, RungeKuttaScheme scheme, GradientMode mode, SolverOptions options, ScalarType dtype, int repeats, double? t1 = null, bool anchorRepeats = false, int slowRepeats = AnchorTiming.SlowRepeats)
    {
        ArgumentNullException.ThrowIfNull(problem);
        ArgumentNullException.ThrowIfNull(options);
        using var scope = NewDisposeScope();
        var dynamics = new BenchMlp(problem, dtype);
        var end = t1 ?? problem.Header.T1;
        var block = new OdeBlock(dynamics, scheme, options, problem.Header.T0, end, mode);
        var y0 = problem["y0"].to(dtype);
        var result = new GradientResult
        {
            Problem = problem.Name,
            Scheme = scheme.Name,
            Mode = mode.ToString().ToLowerInvariant(),
            DType = dtype.ToString().ToLowerInvariant(),
            RelativeTolerance = options.IsAdaptive ? options.RelativeTolerance : null,
            AbsoluteTolerance = options.IsAdaptive ? options.AbsoluteTolerance : null,
            FixedSteps = options.Steps,
            Rows = y0.shape[0],
            StateWidth = y0.shape[1],
            T1 = end,
            EndTimeOverridden = t1 is not null,
        };

        try
        {
            return Measure(result, problem, block, dynamics, y0, repeats, t1 is null, anchorRepeats ? slowRepeats : null);
        }
        catch (OdeSolverException failure)
        {
            return result with { Failure = "error: " + failure.Message.ReplaceLineEndings(" ") };
        }
    }

    private static GradientResult Measure(GradientResult result, BenchProblem problem, OdeBlock block, BenchMlp dynamics, Tensor y0, int repeats, bool compare, int? anchorSlowRepeats)
    {
        // The first pass measures the work, the peak memory and the gradient; the timed passes repeat it.
        GC.Collect();
        var before = ResidentMemory.Reset();
        var (firstForward, firstBackward, _, y, gradients) = Pass(block, dynamics, y0);
        if (anchorSlowRepeats is int slow)
        {
            repeats = AnchorTiming.Repeats(repeats, (firstForward + firstBackward) / 1000, slow);
        }

        var peak = ResidentMemory.PeakMb() - before;
        var forwardNfe = block.LastForward.Calls;
        var backwardNfe = block.LastBackward.Calls;
        var error = double.NaN;
        var stateError = double.NaN;
        if (compare)
        {
            var reference = cat(new[] { "W1", "b1", "W2", "b2" }.Select(name => problem[$"ref_grad_{name}"].to(ScalarType.Float64).flatten()).ToList());
            error = gradients.sub(reference).norm().item<double>() / reference.norm().item<double>();
            stateError = BenchRunner.Errors(y, problem["ref_yT"]).RelL2;
        }

        var mode = block.GradientMode;
        var t = full(y0.shape[0], block.T0, dtype: y0.dtype);
        if (repeats > 0)
        {
            Floor(mode, dynamics, t, y0, forwardNfe, backwardNfe); // warm the floor's path too
        }

        var forwardTimes = new double[repeats];
        var backwardTimes = new double[repeats];
        var backwardCpuTimes = new double[repeats];
        var floorTimes = new double[repeats];
        for (var i = 0; i < repeats; i++)
        {
            GC.Collect();
            (forwardTimes[i], backwardTimes[i], backwardCpuTimes[i], _, _) = Pass(block, dynamics, y0);
            GC.Collect();
            floorTimes[i] = Floor(mode, dynamics, t, y0, forwardNfe, backwardNfe);
        }

        block.zero_grad();
        return result with
        {
            ForwardMs = Median([.. forwardTimes]),
            BackwardMs = Median([.. backwardTimes]),
            BackwardCpuMs = Median([.. backwardCpuTimes]),
            ForwardAllMs = forwardTimes,
            TotalMs = [.. forwardTimes.Zip(backwardTimes, static (f, b) => f + b)],
            FloorMs = floorTimes,
            ForwardNfe = forwardNfe,
            BackwardNfe = backwardNfe,
            GradientError = error,
            ErrRelL2 = stateError,
            AcceptedSteps = block.LastForward.MaxAcceptedSteps,
            PeakMemoryMb = peak,
            LoadAverage1Min = Machine.LoadAverage1Min(),
        };
    }

    /// <summary>Writes the results as a table.</summary>
    /// <param name="console">Where to write.</param>
    /// <param name="results">The results.</param>
    public static void Write(IAnsiConsole console, IEnumerable<GradientResult> results)
    {
        var table = Output.Styled(new Table(), console)
            .AddColumn("Problem")
            .AddColumn("Scheme")
            .AddColumn("Gradient")
            .AddColumn("DType")
            .AddColumn(new TableColumn("Forward ms").RightAligned())
            .AddColumn(new TableColumn("Backward ms").RightAligned())
            .AddColumn(new TableColumn("Backward CPU ms").RightAligned())
            .AddColumn(new TableColumn("Forward NFE").RightAligned())
            .AddColumn(new TableColumn("Backward NFE").RightAligned())
            .AddColumn(new TableColumn("t1").RightAligned())
            .AddColumn(new TableColumn("Accepted").RightAligned())
            .AddColumn(new TableColumn("Peak MB").RightAligned())
            .AddColumn(new TableColumn("Grad err rel L2").RightAligned());
        foreach (var r in results)
        {
            table.AddRow(
                r.Problem,
                r.Scheme,
                r.Mode,
                r.DType,
                Format(r.ForwardMs, "0.0"),
                Format(r.BackwardMs, "0.0"),
                Format(r.BackwardCpuMs, "0.0"),
                r.ForwardNfe.ToString(CultureInfo.InvariantCulture),
                r.BackwardNfe.ToString(CultureInfo.InvariantCulture),
                r.T1.ToString("0.###", CultureInfo.InvariantCulture),
                r.AcceptedSteps.ToString(CultureInfo.InvariantCulture),
                Format(r.PeakMemoryMb, "0"),
                double.IsNaN(r.GradientError) ? "–" : r.GradientError.ToString("0.00E+00", CultureInfo.InvariantCulture));
        }

        console.Write(table);
    }

    private static (double ForwardMs, double BackwardMs, double BackwardCpuMs, Tensor Y, Tensor Gradient) Pass(OdeBlock block, BenchMlp dynamics, Tensor y0)
    {
        block.zero_grad();
        var clock = Stopwatch.StartNew();
        var y = block.call(y0);
        var loss = y.square().mean().mul(0.5);
        var forward = clock.Elapsed.TotalMilliseconds;
        clock.Restart();
        var cpu = ThreadClock.NowMs();
        loss.backward();
        var backwardCpu = ThreadClock.NowMs() - cpu;
        var backward = clock.Elapsed.TotalMilliseconds;
        var gradient = cat(dynamics.Ordered.Select(static p => p.grad!.to(ScalarType.Float64).flatten()).ToList());
        return (forward, backward, backwardCpu, y.detach(), gradient);
    }

    // One floor replay (see the remarks), in milliseconds; its tensors are freed inside the timing, as the pass's are.
    private static double Floor(GradientMode mode, BenchMlp dynamics, Tensor t, Tensor y0, long forwardNfe, long backwardNfe)
    {
        var parameters = dynamics.Ordered.Cast<Tensor>().ToList();
        var clock = Stopwatch.StartNew();
        using (var scope = NewDisposeScope())
        {
            switch (mode)
            {
                case GradientMode.Backprop:
                    Recorded(dynamics, t, y0, forwardNfe, parameters);
                    break;
                case GradientMode.Adjoint:
                    Plain(dynamics, t, y0, forwardNfe);
                    VectorJacobianProducts(dynamics, t, y0, backwardNfe, parameters);
                    break;
                default:
                    Plain(dynamics, t, y0, forwardNfe);
                    Recorded(dynamics, t, y0, backwardNfe, parameters);
                    break;
            }
        }

        var elapsed = clock.Elapsed.TotalMilliseconds;
        dynamics.zero_grad();
        return elapsed;
    }

    private static void Plain(BenchMlp dynamics, Tensor t, Tensor y0, long count)
    {
        using var noGrad = no_grad();
        for (var i = 0L; i < count; i++)
        {
            dynamics.call(t, y0);
        }
    }

    private static void Recorded(BenchMlp dynamics, Tensor t, Tensor y0, long count, List<Tensor> parameters)
    {
        if (count == 0)
        {
            return;
        }

        var y = y0.detach().clone().requires_grad_(true);
        var outputs = new List<Tensor>();
        for (var i = 0L; i < count; i++)
        {
            outputs.Add(dynamics.call(t, y));
        }

        autograd.grad(outputs, [y, .. parameters], [.. outputs.Select(static o => ones_like(o))], allow_unused: true);
    }

    private static void VectorJacobianProducts(BenchMlp dynamics, Tensor t, Tensor y0, long count, List<Tensor> parameters)
    {
        var cotangent = ones_like(y0);
        for (var i = 0L; i < count; i++)
        {
            var y = y0.detach().requires_grad_(true);
            var output = dynamics.call(t, y);
            autograd.grad([output], [y, .. parameters], [cotangent], allow_unused: true);
        }
    }

    private static double Median(List<double> values)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        values.Sort();
        var mid = values.Count / 2;
        return values.Count % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
    }

    private static string Format(double value, string format) =>
        double.IsNaN(value) ? "–" : value.ToString(format, CultureInfo.InvariantCulture);
}
