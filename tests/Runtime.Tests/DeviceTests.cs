using NeuralOde.Modules;
using NeuralOde.Solving;
using TorchSharp;
using static TorchSharp.torch;

namespace NeuralOde.Tests;

/// <summary>CUDA checks: they run where a CUDA device and the TorchSharp CUDA backend are present, and skip
/// elsewhere (CI has no GPU).</summary>
[Collection("Torch")]
public sealed class DeviceTests
{
    private static void RequireCuda() =>
        Skip.IfNot(cuda.is_available(), "No CUDA device (or the CPU-only TorchSharp backend): build with -p:TorchBackend=cuda on a GPU machine.");

    [SkippableFact]
    public void Cuda_AdaptiveSolve_MatchesCpu()
    {
        RequireCuda();
        using var scope = NewDisposeScope();
        var y0 = randn(64, 8, dtype: ScalarType.Float64);
        var rates = linspace(0.5, 50, 64, dtype: ScalarType.Float64);
        Tensor F(Tensor t, Tensor y, Tensor rows) => y.mul(rates.to(y.device).index_select(0, rows).unsqueeze(1)).neg();
        var cpu = Ode.Solve("DOPRI5", F, y0, 0, 1, SolverOptions.Adaptive(1e-8, 1e-10));
        var gpu = Ode.Solve("DOPRI5", F, y0.cuda(), 0, 1, SolverOptions.Adaptive(1e-8, 1e-10));
        Assert.Equal(DeviceType.CUDA, gpu.Y.device_type);
        Assert.True(gpu.Y.cpu().allclose(cpu.Y, rtol: 1e-9, atol: 1e-12));
        Assert.Equal(cpu.Stats.AcceptedSteps.data<long>().ToArray(), gpu.Stats.AcceptedSteps.cpu().data<long>().ToArray());
    }

    [SkippableFact]
    public void Cuda_MismatchedDevices_ThrowClearErrors()
    {
        RequireCuda();
        using var scope = NewDisposeScope();
        var block = new OdeBlock(new MlpDynamics(4, 8), Schemes.Get("RKF45"));
        var error = Assert.Throws<ArgumentException>(() => block.call(randn(2, 4).cuda()));
        Assert.Contains("to(device)", error.Message);
        var tolerance = Assert.Throws<ArgumentException>(() =>
            Ode.Solve("DOPRI5", (t, y) => y.neg(), ones(3, 2).cuda(), 0, 1, new SolverOptions { RelativeToleranceRows = ones(3) }));
        Assert.Contains("RelativeToleranceRows", tolerance.Message);
    }

    [Fact]
    public void Cpu_SolveStaysOnTheInputsDevice()
    {
        using var scope = NewDisposeScope();
        var solution = Ode.Solve("Tsit5", (t, y) => y.neg(), ones(3, 2), 0, 1);
        Assert.Equal(DeviceType.CPU, solution.Y.device_type);
        Assert.Equal(DeviceType.CPU, solution.Status.device_type);
        Assert.Equal(ScalarType.Float32, solution.Y.dtype);
    }
}
