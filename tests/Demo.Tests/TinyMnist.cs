using NeuralOde.Demo.Data;

namespace NeuralOde.Demo.Tests;

/// <summary>A small MNIST subset (the repository's fixture testdata/mnist: the first 512 training and 256 test images of MNIST), loaded once.</summary>
internal static class TinyMnist
{
    private static readonly Lazy<Dataset> Loaded = new(static () =>
    {
        var location = DataLocator.InFolder(DatasetInfo.Mnist, TestData.Mnist)
            ?? throw new InvalidOperationException($"{TestData.Mnist} lacks some of the four MNIST files.");
        return Dataset.Load(DatasetInfo.Mnist, location, trainLimit: 512, testLimit: 256);
    });

    /// <summary>Gets the subset (shared by the tests; do not dispose).</summary>
    public static Dataset Data => Loaded.Value;
}
