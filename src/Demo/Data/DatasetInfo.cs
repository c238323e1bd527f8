namespace NeuralOde.Demo.Data;

/// <summary>How a downloaded file is checked.</summary>
internal enum ChecksumKind
{
    /// <summary>The sha256 of the .gz file as served.</summary>
    Compressed,

    /// <summary>The sha256 of the decompressed content (mirrors recompress, so their .gz bytes differ).</summary>
    Decompressed,
}

/// <summary>One of a data set's four IDX files.</summary>
/// <param name="Name">The file name without <c>.gz</c>, e.g. <c>train-images-idx3-ubyte</c>.</param>
/// <param name="Sha256">The expected sha256 (lower-case hex) of the .gz or of the content, by <paramref name="Checksum"/>.</param>
/// <param name="Checksum">What the sha256 covers.</param>
internal sealed record IdxFile(string Name, string Sha256, ChecksumKind Checksum)
{
    /// <summary>Gets the compressed file's name.</summary>
    public string GzName => Name + ".gz";
}

/// <summary>An MNIST-format data set: its files, checksums, mirrors, normalization and class names.</summary>
internal sealed record DatasetInfo
{
    /// <summary>MNIST handwritten digits (LeCun, Cortes, Burges; CC BY-SA 3.0).</summary>
    public static readonly DatasetInfo Mnist = new()
    {
        Id = "mnist",
        DisplayName = "MNIST",
        TrainImages = new("train-images-idx3-ubyte", "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", ChecksumKind.Compressed),
        TrainLabels = new("train-labels-idx1-ubyte", "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", ChecksumKind.Compressed),
        TestImages = new("t10k-images-idx3-ubyte", "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", ChecksumKind.Compressed),
        TestLabels = new("t10k-labels-idx1-ubyte", "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", ChecksumKind.Compressed),
        Mirrors =
        [
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
            "http://yann.lecun.com/exdb/mnist/",
        ],
        Mean = 0.1307,
        Std = 0.3081,
        ClassNames = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
        SystemFolders = [],
    };

    /// <summary>Fashion-MNIST (Zalando, MIT). Checked by the decompressed content's sha256 because Debian's package and
    /// the mirrors' .gz files differ in their gzip headers.</summary>
    public static readonly DatasetInfo FashionMnist = new()
    {
        Id = "fashion-mnist",
        DisplayName = "Fashion-MNIST",
        TrainImages = new("train-images-idx3-ubyte", "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888", ChecksumKind.Decompressed),
        TrainLabels = new("train-labels-idx1-ubyte", "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9", ChecksumKind.Decompressed),
        TestImages = new("t10k-images-idx3-ubyte", "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b", ChecksumKind.Decompressed),
        TestLabels = new("t10k-labels-idx1-ubyte", "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34", ChecksumKind.Decompressed),
        Mirrors =
        [
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/",
        ],

        // Mean and standard deviation of the 60 000 training images' pixels / 255 (computed with this app's loader).
        Mean = 0.2860,
        Std = 0.3530,
        ClassNames = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
        SystemFolders = ["/usr/share/datasets/fashion-mnist"],
        SystemPackageHint = "apt-get install dataset-fashion-mnist (Debian) installs it in /usr/share/datasets/fashion-mnist",
    };

    /// <summary>Gets every data set, by id.</summary>
    public static IReadOnlyList<DatasetInfo> All { get; } = [Mnist, FashionMnist];

    /// <summary>Gets the id used on the command line and as the cache folder's name.</summary>
    public required string Id { get; init; }

    /// <summary>Gets the name shown to people.</summary>
    public required string DisplayName { get; init; }

    /// <summary>Gets the training images.</summary>
    public required IdxFile TrainImages { get; init; }

    /// <summary>Gets the training labels.</summary>
    public required IdxFile TrainLabels { get; init; }

    /// <summary>Gets the test images.</summary>
    public required IdxFile TestImages { get; init; }

    /// <summary>Gets the test labels.</summary>
    public required IdxFile TestLabels { get; init; }

    /// <summary>Gets the base URLs (ending in '/') the .gz files are downloaded from, in order of preference.</summary>
    public required IReadOnlyList<string> Mirrors { get; init; }

    /// <summary>Gets the training pixels' mean after scaling to [0, 1].</summary>
    public required double Mean { get; init; }

    /// <summary>Gets the training pixels' standard deviation after scaling to [0, 1].</summary>
    public required double Std { get; init; }

    /// <summary>Gets the ten class names.</summary>
    public required IReadOnlyList<string> ClassNames { get; init; }

    /// <summary>Gets system-wide folders where a distribution package installs the files.</summary>
    public required IReadOnlyList<string> SystemFolders { get; init; }

    /// <summary>Gets how to install the system package, or null.</summary>
    public string? SystemPackageHint { get; init; }

    /// <summary>Gets the four files.</summary>
    public IReadOnlyList<IdxFile> Files => [TrainImages, TrainLabels, TestImages, TestLabels];

    /// <summary>Finds a data set by id (case-insensitive; <c>fashion</c> and <c>fashion_mnist</c> also work).</summary>
    /// <param name="id">The id.</param>
    /// <returns>The data set.</returns>
    /// <exception cref="ArgumentException">Unknown id; the message lists the known ones.</exception>
    public static DatasetInfo Get(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        var key = id.Trim().ToLowerInvariant().Replace('_', '-');
        return key switch
        {
            "mnist" => Mnist,
            "fashion-mnist" or "fashion" or "fashionmnist" => FashionMnist,
            _ => throw new ArgumentException($"Unknown dataset '{id}'. Known: {string.Join(", ", All.Select(static d => d.Id))}.", nameof(id)),
        };
    }
}
