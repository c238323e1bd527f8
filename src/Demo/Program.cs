namespace NeuralOde.Demo;

/// <summary>The entry point: load libtorch first, then run the command line.</summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        try
        {
            TorchNative.EnsureLoaded();
        }
        catch (TorchNativeException error)
        {
            DemoApp.WriteError(Console.Error, error.Message);
            return Cli.ExitCodes.Failure;
        }

        // The first Ctrl+C stops training between batches (the run can be resumed); a second one quits at once.
        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            if (!stop.IsCancellationRequested)
            {
                e.Cancel = true;
                Console.Error.WriteLine("Stopping after the current batch (Ctrl+C again to quit now)…");
                stop.Cancel();
            }
        };

        return DemoApp.Run(args, cancellationToken: stop.Token);
    }
}
