using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;

namespace NeuralOde.Demo.Data;

/// <summary>An IDX array: its element type, dimensions and raw unsigned-byte data (row-major).</summary>
/// <param name="Dimensions">The dimensions; the first is the number of items.</param>
/// <param name="Data">The elements, row-major.</param>
internal sealed record IdxArray(int[] Dimensions, byte[] Data)
{
    /// <summary>Gets the number of items (the first dimension).</summary>
    public int Count => Dimensions[0];

    /// <summary>Gets the dimensions as text, e.g. <c>60000 × 28 × 28</c>.</summary>
    public string Shape => string.Join(" × ", Dimensions.Select(static d => d.ToString(CultureInfo.InvariantCulture)));
}

/// <summary>An IDX file is malformed or does not hold what was expected; the message says exactly what is wrong.</summary>
internal sealed class IdxFormatException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong, naming the file.</param>
    /// <param name="inner">The underlying error, if any.</param>
    public IdxFormatException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}

/// <summary>
/// Reads IDX files (the MNIST format: a 4-byte magic number <c>0x00 0x00 type rank</c>, <c>rank</c> big-endian
/// 32-bit dimensions, then the elements), raw or gzip-compressed (detected from the content, not the name). Only
/// unsigned-byte data (type 0x08) is supported. Everything is validated: magic, type, rank, dimensions, data
/// length (truncated or with trailing bytes), and, with <see cref="ReadImages"/> and <see cref="ReadLabels"/>, the
/// expected shape and label range.
/// </summary>
internal static class IdxReader
{
    /// <summary>The IDX type code of unsigned bytes.</summary>
    public const byte UnsignedByte = 0x08;

    /// <summary>The magic number of an MNIST image file (unsigned bytes, rank 3).</summary>
    public const int ImagesMagic = 0x0803;

    /// <summary>The magic number of an MNIST label file (unsigned bytes, rank 1).</summary>
    public const int LabelsMagic = 0x0801;

    private static readonly Dictionary<byte, string> TypeNames = new()
    {
        [0x08] = "unsigned byte",
        [0x09] = "signed byte",
        [0x0B] = "int16",
        [0x0C] = "int32",
        [0x0D] = "float32",
        [0x0E] = "float64",
    };

    /// <summary>Reads an IDX file, raw or gzip-compressed.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The array.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="IdxFormatException">The file is not a valid unsigned-byte IDX file.</exception>
    public static IdxArray Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"IDX file not found: {path}.", path);
        }

        using var file = File.OpenRead(path);
        return Read(file, path);
    }

    /// <summary>Reads an IDX stream, raw or gzip-compressed.</summary>
    /// <param name="stream">The stream, positioned at the start.</param>
    /// <param name="name">The file's name for messages.</param>
    /// <returns>The array.</returns>
    /// <exception cref="IdxFormatException">The content is not a valid unsigned-byte IDX array.</exception>
    public static IdxArray Read(Stream stream, string name)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var buffered = new BufferedStream(stream, 1 << 16);
        var first = new byte[2];
        var sniffed = ReadFully(buffered, first);
        if (sniffed == 0)
        {
            throw new IdxFormatException($"{name}: the file is empty (an IDX file starts with a 4-byte magic number).");
        }

        var gzip = sniffed == 2 && first[0] == 0x1F && first[1] == 0x8B;
        Stream content = new PrefixedStream(first.AsMemory(0, sniffed), buffered);
        if (gzip)
        {
            content = new GZipStream(content, CompressionMode.Decompress);
        }

        try
        {
            return ReadContent(content, name, gzip);
        }
        catch (InvalidDataException error)
        {
            throw new IdxFormatException($"{name}: the gzip data is corrupt ({error.Message}).", error);
        }
        catch (EndOfStreamException error)
        {
            throw new IdxFormatException($"{name}: the gzip data ends early (the file is truncated).", error);
        }
        finally
        {
            content.Dispose();
        }
    }

    /// <summary>Reads an image file: magic 2051, rank 3, with the given image size.</summary>
    /// <param name="path">The file.</param>
    /// <param name="rows">The expected image height.</param>
    /// <param name="columns">The expected image width.</param>
    /// <returns>The images, <c>[N, rows, columns]</c>.</returns>
    public static IdxArray ReadImages(string path, int rows = 28, int columns = 28)
    {
        var array = Read(path);
        if (array.Dimensions.Length != 3)
        {
            throw new IdxFormatException(
                $"{path}: expected an image file (magic {ImagesMagic}, 3 dimensions: count × rows × columns) but it has " +
                $"{Plural(array.Dimensions.Length, "dimension")} ({array.Shape}); is it a label file?");
        }

        if (array.Dimensions[1] != rows || array.Dimensions[2] != columns)
        {
            throw new IdxFormatException(
                $"{path}: expected {rows} × {columns} images but the file holds {array.Dimensions[1]} × {array.Dimensions[2]} images.");
        }

        return array;
    }

    /// <summary>Reads a label file: magic 2049, rank 1, every label below <paramref name="classes"/>.</summary>
    /// <param name="path">The file.</param>
    /// <param name="classes">The number of classes.</param>
    /// <returns>The labels, <c>[N]</c>.</returns>
    public static IdxArray ReadLabels(string path, int classes = 10)
    {
        var array = Read(path);
        if (array.Dimensions.Length != 1)
        {
            throw new IdxFormatException(
                $"{path}: expected a label file (magic {LabelsMagic}, 1 dimension) but it has " +
                $"{Plural(array.Dimensions.Length, "dimension")} ({array.Shape}); is it an image file?");
        }

        for (var i = 0; i < array.Data.Length; i++)
        {
            if (array.Data[i] >= classes)
            {
                throw new IdxFormatException($"{path}: label {i} is {array.Data[i]}, outside 0..{classes - 1}.");
            }
        }

        return array;
    }

    /// <summary>Checks that images and labels describe the same items.</summary>
    /// <param name="images">The images.</param>
    /// <param name="labels">The labels.</param>
    /// <param name="imagesPath">The image file, for the message.</param>
    /// <param name="labelsPath">The label file, for the message.</param>
    public static void CheckPair(IdxArray images, IdxArray labels, string imagesPath, string labelsPath)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        if (images.Count != labels.Count)
        {
            throw new IdxFormatException(
                $"{imagesPath} holds {Plural(images.Count, "image")} but {labelsPath} holds {Plural(labels.Count, "label")}: " +
                "the two files do not belong together.");
        }
    }

    private static IdxArray ReadContent(Stream content, string name, bool gzip)
    {
        var what = gzip ? "the decompressed data" : "the file";
        var header = new byte[4];
        var got = ReadFully(content, header);
        if (got < 4)
        {
            throw new IdxFormatException($"{name}: {what} is only {Plural(got, "byte")} long; an IDX file starts with a 4-byte magic number.");
        }

        var magic = BinaryPrimitives.ReadInt32BigEndian(header);
        if (header[0] != 0 || header[1] != 0)
        {
            throw new IdxFormatException(
                $"{name}: bad magic number 0x{magic:X8} ({magic}): an IDX file starts with two zero bytes, a type code and " +
                $"the number of dimensions (MNIST images: 0x{ImagesMagic:X8} = {ImagesMagic}, labels: 0x{LabelsMagic:X8} = {LabelsMagic}).");
        }

        var type = header[2];
        if (type != UnsignedByte)
        {
            var typeName = TypeNames.TryGetValue(type, out var known) ? $"{known} data" : "an unknown type code";
            throw new IdxFormatException(
                $"{name}: magic number 0x{magic:X8} declares {typeName} (0x{type:X2}); only unsigned bytes (0x08) are supported.");
        }

        var rank = header[3];
        if (rank is < 1 or > 4)
        {
            throw new IdxFormatException($"{name}: magic number 0x{magic:X8} declares {rank} dimensions; expected 1 to 4.");
        }

        var dimensionBytes = new byte[4 * rank];
        got = ReadFully(content, dimensionBytes);
        if (got < dimensionBytes.Length)
        {
            throw new IdxFormatException(
                $"{name}: truncated header: {Plural(rank, "dimension")} need {dimensionBytes.Length} bytes after the magic number but only {got} follow.");
        }

        var dimensions = new int[rank];
        long total = 1;
        for (var i = 0; i < rank; i++)
        {
            dimensions[i] = BinaryPrimitives.ReadInt32BigEndian(dimensionBytes.AsSpan(4 * i));
            if (dimensions[i] < 0 || (i > 0 && dimensions[i] == 0))
            {
                throw new IdxFormatException($"{name}: dimension {i} is {dimensions[i]}; sizes must be positive.");
            }

            total *= dimensions[i];
            if (total > Array.MaxLength)
            {
                throw new IdxFormatException($"{name}: the dimensions {string.Join(" × ", dimensionBytes.Chunk(4).Select(static c => BinaryPrimitives.ReadInt32BigEndian(c)))} are too large for one array.");
            }
        }

        var data = new byte[total];
        got = ReadFully(content, data);
        var shape = string.Join(" × ", dimensions.Select(static d => d.ToString(CultureInfo.InvariantCulture)));
        if (got < data.Length)
        {
            throw new IdxFormatException(
                $"{name}: truncated: the header declares {shape} = {total:N0} bytes of data but only {got:N0} follow.");
        }

        var extra = 0L;
        var probe = new byte[8192];
        for (int n; (n = content.Read(probe)) > 0;)
        {
            extra += n;
        }

        if (extra > 0)
        {
            throw new IdxFormatException(
                $"{name}: {Plural(extra, "unexpected byte")} after the {shape} data: the header's dimensions do not match the data.");
        }

        return new IdxArray(dimensions, data);
    }

    private static int ReadFully(Stream stream, byte[] buffer)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var n = stream.Read(buffer, total, buffer.Length - total);
            if (n == 0)
            {
                break;
            }

            total += n;
        }

        return total;
    }

    private static string Plural(long count, string noun) =>
        string.Create(CultureInfo.InvariantCulture, $"{count:N0} {noun}{(count == 1 ? "" : "s")}");

    /// <summary>A read-only stream that yields some already-read bytes, then the rest of an inner stream.</summary>
    private sealed class PrefixedStream(ReadOnlyMemory<byte> prefix, Stream inner) : Stream
    {
        private ReadOnlyMemory<byte> remaining = prefix;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (remaining.Length > 0)
            {
                var n = Math.Min(buffer.Length, remaining.Length);
                remaining.Span[..n].CopyTo(buffer);
                remaining = remaining[n..];
                return n;
            }

            return inner.Read(buffer);
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
