namespace NeuralOde.Demo;

/// <summary>The entry point: load libtorch first, then run the command line.</summary>
internal static class Program
{
    /// <summary>The exit code when the native library cannot be loaded.</summary>
    public const int NativeLoadFailure = 3;

    private static int Main(string[] args)
    {
        try
        {
            TorchNative.EnsureLoaded();
        }
        catch (TorchNativeException error)
        {
            Console.Error.WriteLine(error.Message);
            return NativeLoadFailure;
        }

        return DemoApp.Run(args);
    }
}
