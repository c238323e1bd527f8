using static TorchSharp.torch;

namespace NeuralOde.Demo.Data;

/// <summary>
/// A data set loaded once into tensors: images <c>[N, 1, 28, 28]</c> float32, scaled to [0, 1] and normalized by the
/// data set's training mean and standard deviation; labels <c>[N]</c> int64. Batches are taken with
/// <c>index_select</c>; the tensors are owned by this object (not by any dispose scope).
/// </summary>
internal sealed class Dataset : IDisposable
{
    private Dataset(DatasetInfo info, string folder, Tensor trainImages, Tensor trainLabels, Tensor testImages, Tensor testLabels)
    {
        Info = info;
        Folder = folder;
        TrainImages = trainImages;
        TrainLabels = trainLabels;
        TestImages = testImages;
        TestLabels = testLabels;
    }

    /// <summary>Gets the data set's description.</summary>
    public DatasetInfo Info { get; }

    /// <summary>Gets the folder the files were read from.</summary>
    public string Folder { get; }

    /// <summary>Gets the training images, <c>[N, 1, 28, 28]</c>.</summary>
    public Tensor TrainImages { get; }

    /// <summary>Gets the training labels, <c>[N]</c>.</summary>
    public Tensor TrainLabels { get; }

    /// <summary>Gets the test images, <c>[M, 1, 28, 28]</c>.</summary>
    public Tensor TestImages { get; }

    /// <summary>Gets the test labels, <c>[M]</c>.</summary>
    public Tensor TestLabels { get; }

    /// <summary>Gets the number of training items.</summary>
    public int TrainCount => (int)TrainLabels.shape[0];

    /// <summary>Gets the number of test items.</summary>
    public int TestCount => (int)TestLabels.shape[0];

    /// <summary>Finds the files, or downloads them into the per-user cache.</summary>
    /// <param name="info">The data set.</param>
    /// <param name="dataOption">The <c>--data</c> folder, or null.</param>
    /// <param name="allowDownload">Whether a missing data set may be downloaded.</param>
    /// <param name="progress">Download progress, or null.</param>
    /// <param name="cancellationToken">Stops a download.</param>
    /// <returns>The files' location.</returns>
    public static DataLocation Locate(DatasetInfo info, string? dataOption, bool allowDownload, DownloadProgress? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(info);
        if (DataLocator.Find(info, dataOption) is { } found)
        {
            return found;
        }

        if (dataOption is not null)
        {
            throw new DataNotFoundException(
                $"{info.DisplayName} is not in --data {Path.GetFullPath(dataOption)}: it needs the four IDX files " +
                $"({string.Join(", ", info.Files.Select(static f => f.GzName))}; uncompressed names work too), there or in its '{info.Id}' subfolder.");
        }

        if (!allowDownload)
        {
            throw new DataNotFoundException(DataLocator.NotFoundMessage(info, dataOption, "downloading is turned off (--offline)."));
        }

        try
        {
            return Downloader.Download(info, DataLocator.CacheFolder(info), progress, cancellationToken);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new DataNotFoundException(DataLocator.NotFoundMessage(info, dataOption, $"the download failed (offline?): {error.Message}"), error);
        }
    }

    /// <summary>Reads and validates the four files of a location and builds the tensors.</summary>
    /// <param name="info">The data set.</param>
    /// <param name="location">Where its files are.</param>
    /// <param name="trainLimit">Use only the first N training items, or null for all.</param>
    /// <param name="testLimit">Use only the first N test items, or null for all.</param>
    /// <param name="device">Where the tensors live (default CPU).</param>
    /// <returns>The data set.</returns>
    public static Dataset Load(DatasetInfo info, DataLocation location, int? trainLimit = null, int? testLimit = null, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(info);
        ArgumentNullException.ThrowIfNull(location);
        Tensor trainX, trainY, testX, testY;
        Tensor[] parts = [];
        try
        {
            (trainX, trainY) = LoadPair(info, location.PathOf(info, info.TrainImages), location.PathOf(info, info.TrainLabels), trainLimit, device);
            parts = [trainX, trainY];
            (testX, testY) = LoadPair(info, location.PathOf(info, info.TestImages), location.PathOf(info, info.TestLabels), testLimit, device);
        }
        catch
        {
            foreach (var part in parts)
            {
                part.Dispose();
            }

            throw;
        }

        return new Dataset(info, location.Folder, trainX, trainY, testX, testY);
    }

    /// <summary>Turns raw pixels into the model's input: scale to [0, 1], subtract the mean, divide by the std.</summary>
    /// <param name="info">The data set (for its mean and std).</param>
    /// <param name="pixels">Unsigned-byte pixels, <c>[N, 28, 28]</c>.</param>
    /// <returns>Float32 images, <c>[N, 1, 28, 28]</c>.</returns>
    public static Tensor Normalize(DatasetInfo info, Tensor pixels)
    {
        ArgumentNullException.ThrowIfNull(info);
        ArgumentNullException.ThrowIfNull(pixels);
        using var scope = NewDisposeScope();
        return pixels.to(ScalarType.Float32).div(255.0).sub(info.Mean).div(info.Std).unsqueeze(1).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        TrainImages.Dispose();
        TrainLabels.Dispose();
        TestImages.Dispose();
        TestLabels.Dispose();
    }

    private static (Tensor Images, Tensor Labels) LoadPair(DatasetInfo info, string imagesPath, string labelsPath, int? limit, Device? device)
    {
        var images = IdxReader.ReadImages(imagesPath);
        var labels = IdxReader.ReadLabels(labelsPath, info.ClassNames.Count);
        IdxReader.CheckPair(images, labels, imagesPath, labelsPath);
        var n = limit is { } l ? Math.Clamp(l, 1, images.Count) : images.Count;
        var rows = images.Dimensions[1];
        var columns = images.Dimensions[2];
        using var scope = NewDisposeScope();
        var pixels = tensor(images.Data.AsSpan(0, n * rows * columns).ToArray(), [n, rows, columns], ScalarType.Byte);
        var x = Normalize(info, pixels);
        var y = tensor(labels.Data.AsSpan(0, n).ToArray(), [n], ScalarType.Byte).to(ScalarType.Int64);
        if (device is not null && device.type != TorchSharp.DeviceType.CPU)
        {
            x = x.to(device);
            y = y.to(device);
        }

        return (x.DetachFromDisposeScope(), y.DetachFromDisposeScope());
    }
}
