using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace NeuralOde.Solving;

/// <summary>
/// Moves per-row vectors between tensors and the solver's managed arrays: on the CPU through the tensor's own
/// memory (no copy, no operation), elsewhere through one copy to or from the host.
/// </summary>
internal static class HostMemory
{
    /// <summary>The elements of <paramref name="x"/> in row-major order, as <typeparamref name="T"/>; valid while
    /// the current dispose scope lives (a copy made for a device tensor belongs to it).</summary>
    /// <typeparam name="T">The element type, matching the tensor's dtype.</typeparam>
    /// <param name="x">Any tensor, <c>[W, ...]</c>.</param>
    /// <returns>The elements.</returns>
    public static ReadOnlySpan<T> Read<T>(Tensor x)
        where T : unmanaged
    {
        var host = x.device_type == DeviceType.CPU && x.is_contiguous() ? x : x.detach().contiguous().cpu();
        return MemoryMarshal.Cast<byte, T>(host.bytes);
    }

    /// <summary>A new <c>[n]</c> tensor of <paramref name="dtype"/> on <paramref name="device"/> holding the values.</summary>
    /// <param name="values">The values.</param>
    /// <param name="dtype">Float32 or float64.</param>
    /// <param name="device">Where the tensor goes.</param>
    /// <returns>The tensor, in the current dispose scope.</returns>
    public static Tensor Write(ReadOnlySpan<double> values, ScalarType dtype, Device device)
    {
        var host = empty(values.Length, dtype: dtype);
        if (dtype == ScalarType.Float32)
        {
            var target = MemoryMarshal.Cast<byte, float>(host.bytes);
            for (var i = 0; i < values.Length; i++)
            {
                target[i] = (float)values[i];
            }
        }
        else
        {
            values.CopyTo(MemoryMarshal.Cast<byte, double>(host.bytes));
        }

        return OnDevice(host, device);
    }

    /// <summary>A new <c>[n]</c> bool tensor on <paramref name="device"/> holding the flags.</summary>
    /// <param name="values">The flags.</param>
    /// <param name="device">Where the tensor goes.</param>
    /// <returns>The tensor, in the current dispose scope.</returns>
    public static Tensor Write(ReadOnlySpan<bool> values, Device device)
    {
        var host = empty(values.Length, dtype: ScalarType.Bool);
        values.CopyTo(MemoryMarshal.Cast<byte, bool>(host.bytes));
        return OnDevice(host, device);
    }

    /// <summary>A new <c>[n]</c> int64 tensor on <paramref name="device"/> holding the values.</summary>
    /// <param name="values">The values.</param>
    /// <param name="device">Where the tensor goes.</param>
    /// <returns>The tensor, in the current dispose scope.</returns>
    public static Tensor Write(ReadOnlySpan<long> values, Device device)
    {
        var host = empty(values.Length, dtype: ScalarType.Int64);
        values.CopyTo(MemoryMarshal.Cast<byte, long>(host.bytes));
        return OnDevice(host, device);
    }

    private static Tensor OnDevice(Tensor host, Device device) => device.type == DeviceType.CPU ? host : host.to(device);
}
