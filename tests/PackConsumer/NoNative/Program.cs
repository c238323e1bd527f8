// A user's program that references NeuralOde but neither TorchSharp-cpu nor TorchSharp-cuda-*: run by
// scripts/pack-consumer-check.sh to record what such an app is told. It prints what TorchNative.EnsureLoaded says,
// then what the first tensor operation does without it, and exits 0 only when both fail as documented.
using NeuralOde;
using static TorchSharp.torch;

var ok = true;
try
{
    TorchNative.EnsureLoaded();
    Console.WriteLine("EnsureLoaded: loaded (unexpected)");
    ok = false;
}
catch (TorchNativeException error)
{
    Console.WriteLine($"EnsureLoaded: {error.GetType().Name}: {error.Message}");
}

try
{
    using var x = ones(2, 2);
    Console.WriteLine("ones: worked (unexpected)");
    ok = false;
}
catch (Exception error)
{
    Console.WriteLine($"ones: {error.GetType().FullName}: {error.Message.Split('\n')[0]}");
}

return ok ? 0 : 1;
