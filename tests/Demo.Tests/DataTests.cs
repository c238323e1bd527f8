using System.Net;
using System.Security.Cryptography;
using NeuralOde.Demo.Data;

namespace NeuralOde.Demo.Tests;

/// <summary>Finding, downloading (against a local server) and loading data sets.</summary>
[Collection("Torch")]
public sealed class DataTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("neuralode-data-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private void WriteTinyDataset(string target, bool gzip)
    {
        Directory.CreateDirectory(target);
        var info = DatasetInfo.Mnist;
        var contents = new[] { IdxReaderTests.Images(6), IdxReaderTests.LabelBytes(6), IdxReaderTests.Images(4), IdxReaderTests.LabelBytes(4) };
        for (var i = 0; i < 4; i++)
        {
            var file = info.Files[i];
            File.WriteAllBytes(Path.Combine(target, gzip ? file.GzName : file.Name), gzip ? IdxReaderTests.Gzip(contents[i]) : contents[i]);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void LoadsAFolderIntoNormalizedTensors(bool gzip)
    {
        WriteTinyDataset(folder, gzip);
        var location = DataLocator.InFolder(DatasetInfo.Mnist, folder);
        Assert.NotNull(location);

        using var data = Dataset.Load(DatasetInfo.Mnist, location!, trainLimit: 5);

        Assert.Equal([5L, 1, 28, 28], data.TrainImages.shape);
        Assert.Equal([4L], data.TestLabels.shape);
        Assert.Equal(TorchSharp.torch.ScalarType.Float32, data.TrainImages.dtype);
        Assert.Equal(TorchSharp.torch.ScalarType.Int64, data.TrainLabels.dtype);
        var first = data.TrainImages[0, 0, 0, 0].item<float>();
        Assert.Equal((0 / 255.0 - 0.1307) / 0.3081, first, 5);
        Assert.Equal(3L, data.TestLabels[3].item<long>());
    }

    [Fact]
    public void DataOptionComesFirstAndSubfoldersCount()
    {
        var sub = Path.Combine(folder, "mnist");
        WriteTinyDataset(sub, gzip: true);

        var candidates = DataLocator.Candidates(DatasetInfo.Mnist, folder);
        var found = DataLocator.Find(DatasetInfo.Mnist, folder);

        Assert.Equal(Path.GetFullPath(folder), candidates[0]);
        Assert.Equal(Path.GetFullPath(sub), found?.Folder);
        Assert.Contains(Path.GetFullPath(DataLocator.CacheFolder(DatasetInfo.Mnist)), candidates);
        Assert.EndsWith(Path.Combine("neuralode", "mnist"), DataLocator.CacheFolder(DatasetInfo.Mnist), StringComparison.Ordinal);
        Assert.Contains("/usr/share/datasets/fashion-mnist", DataLocator.Candidates(DatasetInfo.FashionMnist, null));
    }

    [Fact]
    public void FindsASharedDataFolderByWalkingUp()
    {
        var shared = Path.Combine(folder, "shared", "data", "mnist");
        WriteTinyDataset(shared, gzip: true);
        var deep = Directory.CreateDirectory(Path.Combine(folder, "repo", "src", "Demo")).FullName;

        Assert.Equal(Path.GetFullPath(shared), DataLocator.SharedFolderAbove(DatasetInfo.Mnist, deep));
        Assert.Equal(Path.GetFullPath(shared), DataLocator.InFolder(DatasetInfo.Mnist, DataLocator.SharedFolderAbove(DatasetInfo.Mnist, deep)!)?.Folder);
        Assert.Null(DataLocator.SharedFolderAbove(DatasetInfo.FashionMnist, deep));
    }

    [Fact]
    public void TheCommittedMnistFixtureMatchesItsChecksums()
    {
        var fixture = TestData.Mnist;
        var sums = File.ReadAllLines(Path.Combine(fixture, "SHA256SUMS"))
            .Where(static line => line.Length > 0)
            .Select(static line => line.Split("  "))
            .ToDictionary(static parts => parts[1], static parts => parts[0], StringComparer.Ordinal);
        using var manifest = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(fixture, "manifest.json")));
        var entries = manifest.RootElement.GetProperty("files").EnumerateArray().ToList();

        Assert.Equal(4, sums.Count);
        Assert.Equal(4, entries.Count);
        foreach (var file in DatasetInfo.Mnist.Files)
        {
            var path = Path.Combine(fixture, file.GzName);
            Assert.Equal(sums[file.GzName], Downloader.Sha256(path, ChecksumKind.Compressed));
            var entry = entries.Single(e => e.GetProperty("file").GetString() == file.GzName);
            Assert.Equal(sums[file.GzName], entry.GetProperty("sha256").GetString());
            Assert.Equal(entry.GetProperty("content_sha256").GetString(), Downloader.Sha256(path, ChecksumKind.Decompressed));
        }

        using var data = Dataset.Load(DatasetInfo.Mnist, DataLocator.InFolder(DatasetInfo.Mnist, fixture)!);
        Assert.Equal(512, data.TrainCount);
        Assert.Equal(256, data.TestCount);
    }

    [Fact]
    public void TheOfflineMessageNamesEveryOption()
    {
        var message = DataLocator.NotFoundMessage(DatasetInfo.FashionMnist, folder, "downloading is turned off (--offline).");

        Assert.Contains("Fashion-MNIST was not found", message, StringComparison.Ordinal);
        Assert.Contains("--data DIR", message, StringComparison.Ordinal);
        Assert.Contains("$NEURALODE_DATA", message, StringComparison.Ordinal);
        Assert.Contains(Path.Combine("neuralode", "fashion-mnist"), message, StringComparison.Ordinal);
        Assert.Contains("apt-get install dataset-fashion-mnist", message, StringComparison.Ordinal);
        Assert.Contains(Path.GetFullPath(folder), message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DownloadsVerifiesAndRejectsBadChecksums()
    {
        var contents = new[] { IdxReaderTests.Images(6), IdxReaderTests.LabelBytes(6), IdxReaderTests.Images(4), IdxReaderTests.LabelBytes(4) };
        var served = contents.Select(IdxReaderTests.Gzip).ToArray();
        var names = DatasetInfo.Mnist.Files.Select(static f => f.GzName).ToArray();
        var (listener, prefix) = StartListener();
        using var _ = listener;
        var serving = Task.Run(() =>
        {
            while (listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = listener.GetContext();
                }
                catch (HttpListenerException)
                {
                    return;
                }

                var index = Array.IndexOf(names, context.Request.Url!.AbsolutePath.TrimStart('/'));
                if (index < 0)
                {
                    context.Response.StatusCode = 404;
                }
                else
                {
                    context.Response.ContentLength64 = served[index].Length;
                    context.Response.OutputStream.Write(served[index]);
                }

                context.Response.Close();
            }
        });

        var good = DatasetInfo.Mnist with
        {
            Mirrors = ["http://127.0.0.1:1/", prefix],
            TrainImages = DatasetInfo.Mnist.TrainImages with { Sha256 = Sha(served[0]) },
            TrainLabels = DatasetInfo.Mnist.TrainLabels with { Sha256 = Sha(contents[1]), Checksum = ChecksumKind.Decompressed },
            TestImages = DatasetInfo.Mnist.TestImages with { Sha256 = Sha(served[2]) },
            TestLabels = DatasetInfo.Mnist.TestLabels with { Sha256 = Sha(served[3]) },
        };
        var target = Path.Combine(folder, "cache");
        var progress = new List<string>();

        var location = Downloader.Download(good, target, (file, done, total) => progress.Add(file), CancellationToken.None);

        Assert.Equal(4, location.Paths.Count);
        Assert.Equal(served[0], File.ReadAllBytes(location.Paths[0]));
        Assert.Contains(names[3], progress);
        Assert.Empty(Directory.GetFiles(target, "*.tmp"));

        var bad = good with { Mirrors = [prefix], TestLabels = good.TestLabels with { Sha256 = new string('0', 64) } };
        var badTarget = Path.Combine(folder, "bad");
        var error = Assert.Throws<IOException>(() => Downloader.Download(bad, badTarget, null, CancellationToken.None));

        Assert.Contains("sha256", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(badTarget, names[3])));
        Assert.Empty(Directory.GetFiles(badTarget, "*.tmp", SearchOption.AllDirectories).Concat(Directory.GetFiles(badTarget, ".*")));
        listener.Stop();
        await serving.WaitAsync(TimeSpan.FromSeconds(5));
    }

    private static (HttpListener Listener, string Prefix) StartListener()
    {
        for (var attempt = 0; ; attempt++)
        {
            var listener = new HttpListener();
            var prefix = $"http://127.0.0.1:{Random.Shared.Next(20000, 60000)}/";
            listener.Prefixes.Add(prefix);
            try
            {
                listener.Start();
                return (listener, prefix);
            }
            catch (HttpListenerException) when (attempt < 10)
            {
                listener.Close();
            }
        }
    }

    private static string Sha(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));
}
