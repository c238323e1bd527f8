using NeuralOde.Demo.Data;

namespace NeuralOde.Demo.Tests;

/// <summary>A small MNIST subset (the first 512 training and 256 test images of ../shared/data/mnist), loaded once.</summary>
internal static class TinyMnist
{
    private static readonly Lazy<Dataset> Loaded = new(static () =>
    {
        var location = DataLocator.Find(DatasetInfo.Mnist, null)
            ?? throw new InvalidOperationException("MNIST was not found: the tests need the repository's sibling ../shared/data/mnist.");
        return Dataset.Load(DatasetInfo.Mnist, location, trainLimit: 512, testLimit: 256);
    });

    /// <summary>Gets the subset (shared by the tests; do not dispose).</summary>
    public static Dataset Data => Loaded.Value;
}
