using System.Buffers.Binary;
using System.IO.Compression;
using NeuralOde.Demo.Data;

namespace NeuralOde.Demo.Tests;

/// <summary>The IDX reader on good, corrupt, truncated and mismatched files, raw and gzip-compressed.</summary>
public sealed class IdxReaderTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("neuralode-idx-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    internal static byte[] Idx(byte type, int[] dimensions, byte[] data)
    {
        var bytes = new byte[4 + (4 * dimensions.Length) + data.Length];
        bytes[2] = type;
        bytes[3] = (byte)dimensions.Length;
        for (var i = 0; i < dimensions.Length; i++)
        {
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + (4 * i)), dimensions[i]);
        }

        data.CopyTo(bytes, 4 + (4 * dimensions.Length));
        return bytes;
    }

    internal static byte[] Images(int count, int rows = 28, int columns = 28) =>
        Idx(0x08, [count, rows, columns], [.. Enumerable.Range(0, count * rows * columns).Select(static i => (byte)(i % 251))]);

    internal static byte[] LabelBytes(int count) => Idx(0x08, [count], [.. Enumerable.Range(0, count).Select(static i => (byte)(i % 10))]);

    internal static byte[] Gzip(byte[] content)
    {
        using var memory = new MemoryStream();
        using (var gzip = new GZipStream(memory, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(content);
        }

        return memory.ToArray();
    }

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(folder, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ReadsGoodFilesRawAndCompressed(bool gzip)
    {
        var images = Images(3, 4, 5);
        var labels = LabelBytes(3);
        var imagesPath = Write("images", gzip ? Gzip(images) : images);
        var labelsPath = Write("labels", gzip ? Gzip(labels) : labels);

        var x = IdxReader.ReadImages(imagesPath, 4, 5);
        var y = IdxReader.ReadLabels(labelsPath);
        IdxReader.CheckPair(x, y, imagesPath, labelsPath);

        Assert.Equal([3, 4, 5], x.Dimensions);
        Assert.Equal(images.AsSpan(16).ToArray(), x.Data);
        Assert.Equal([0, 1, 2], y.Data);
        Assert.Equal("3 × 4 × 5", x.Shape);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void RejectsABadMagicNumber(bool gzip)
    {
        var bytes = Images(2, 4, 5);
        bytes[0] = 0x12;
        bytes[1] = 0x34;
        var path = Write("bad", gzip ? Gzip(bytes) : bytes);

        var error = Assert.Throws<IdxFormatException>(() => IdxReader.Read(path));

        Assert.Contains("bad magic number 0x12340803", error.Message, StringComparison.Ordinal);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RejectsUnsupportedTypesAndRanks()
    {
        var floats = Write("floats", Idx(0x0D, [2], new byte[8]));
        Assert.Contains("float32 data (0x0D)", Assert.Throws<IdxFormatException>(() => IdxReader.Read(floats)).Message, StringComparison.Ordinal);

        var rank = Idx(0x08, [2], new byte[2]);
        rank[3] = 9;
        var rank9 = Write("rank9", rank);
        Assert.Contains("declares 9 dimensions", Assert.Throws<IdxFormatException>(() => IdxReader.Read(rank9)).Message, StringComparison.Ordinal);

        var negative = Write("negative", Idx(0x08, [2, -4, 5], []));
        Assert.Contains("dimension 1 is -4", Assert.Throws<IdxFormatException>(() => IdxReader.Read(negative)).Message, StringComparison.Ordinal);

        var empty = Write("empty", []);
        Assert.Contains("empty", Assert.Throws<IdxFormatException>(() => IdxReader.Read(empty)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SaysHowMuchDataATruncatedRawFileLacks()
    {
        var bytes = Images(3, 4, 5);
        var path = Write("truncated", bytes[..^10]);

        var error = Assert.Throws<IdxFormatException>(() => IdxReader.Read(path));

        Assert.Contains("truncated", error.Message, StringComparison.Ordinal);
        Assert.Contains("3 × 4 × 5 = 60 bytes", error.Message, StringComparison.Ordinal);
        Assert.Contains("only 50 follow", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RejectsATruncatedHeader()
    {
        var path = Write("header", Images(3, 4, 5)[..9]);

        Assert.Contains("truncated header", Assert.Throws<IdxFormatException>(() => IdxReader.Read(path)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RejectsATruncatedGzipFile()
    {
        var compressed = Gzip(Images(50, 28, 28));
        var path = Write("truncated.gz", compressed[..(compressed.Length / 2)]);

        var error = Assert.Throws<IdxFormatException>(() => IdxReader.Read(path));

        Assert.Matches("truncated|ends early|corrupt", error.Message);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RejectsTrailingBytes()
    {
        var path = Write("long", [.. LabelBytes(4), 7, 7, 7]);

        Assert.Contains("3 unexpected bytes after the 4 data", Assert.Throws<IdxFormatException>(() => IdxReader.Read(path)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RejectsMismatchedCounts()
    {
        var imagesPath = Write("images", Images(3, 4, 5));
        var labelsPath = Write("labels", LabelBytes(4));

        var error = Assert.Throws<IdxFormatException>(() =>
            IdxReader.CheckPair(IdxReader.ReadImages(imagesPath, 4, 5), IdxReader.ReadLabels(labelsPath), imagesPath, labelsPath));

        Assert.Contains("3 images", error.Message, StringComparison.Ordinal);
        Assert.Contains("4 labels", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RejectsWrongDimensions()
    {
        var small = Write("small", Images(3, 4, 5));
        Assert.Contains("expected 28 × 28 images but the file holds 4 × 5", Assert.Throws<IdxFormatException>(() => IdxReader.ReadImages(small)).Message, StringComparison.Ordinal);

        var labels = Write("labels", LabelBytes(3));
        Assert.Contains("is it a label file?", Assert.Throws<IdxFormatException>(() => IdxReader.ReadImages(labels)).Message, StringComparison.Ordinal);

        var images = Write("images", Images(3, 4, 5));
        Assert.Contains("is it an image file?", Assert.Throws<IdxFormatException>(() => IdxReader.ReadLabels(images)).Message, StringComparison.Ordinal);

        var badLabel = Write("badlabel", Idx(0x08, [2], [3, 12]));
        Assert.Contains("label 1 is 12, outside 0..9", Assert.Throws<IdxFormatException>(() => IdxReader.ReadLabels(badLabel)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingFileIsNotFound() =>
        Assert.Throws<FileNotFoundException>(() => IdxReader.Read(Path.Combine(folder, "nope")));
}
