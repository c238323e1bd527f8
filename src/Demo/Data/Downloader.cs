using System.IO.Compression;
using System.Security.Cryptography;
using System.Net;

namespace NeuralOde.Demo.Data;

/// <summary>Receives download progress: the file's name, bytes so far, and the total when the server says it.</summary>
/// <param name="file">The file being downloaded.</param>
/// <param name="done">Bytes received.</param>
/// <param name="total">The expected size, or null.</param>
internal delegate void DownloadProgress(string file, long done, long? total);

/// <summary>
/// Downloads a data set's .gz files from its mirrors into a folder (the per-user cache). Each file is streamed to a
/// temporary file beside its target, checked against its sha256 (of the .gz, or of the decompressed content where
/// mirrors differ in compression), and only then renamed into place, so a folder never holds a partial or
/// unverified file. Mirrors are tried in order; a network failure on the first file stops early (offline).
/// </summary>
internal static class Downloader
{
    /// <summary>The time allowed to connect to a mirror.</summary>
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(15);

    /// <summary>The time allowed for one whole file.</summary>
    public static readonly TimeSpan FileTimeout = TimeSpan.FromMinutes(5);

    /// <summary>Downloads the missing files of a data set into <paramref name="folder"/>.</summary>
    /// <param name="info">The data set.</param>
    /// <param name="folder">The target folder (created if needed).</param>
    /// <param name="progress">Receives progress, or null.</param>
    /// <param name="cancellationToken">Stops the download.</param>
    /// <returns>The location of the four files.</returns>
    /// <exception cref="IOException">A file could not be downloaded or verified from any mirror; the message has each mirror's error.</exception>
    public static DataLocation Download(DatasetInfo info, string folder, DownloadProgress? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(info);
        Directory.CreateDirectory(folder);
        using var handler = new SocketsHttpHandler { ConnectTimeout = ConnectTimeout, AutomaticDecompression = DecompressionMethods.None };
        using var client = new HttpClient(handler) { Timeout = FileTimeout };
        client.DefaultRequestHeaders.UserAgent.ParseAdd("NeuralOde.Demo/0.1");

        foreach (var file in info.Files)
        {
            var target = Path.Combine(folder, file.GzName);
            if (File.Exists(target))
            {
                continue;
            }

            var errors = new List<string>();
            var done = false;
            foreach (var mirror in info.Mirrors)
            {
                try
                {
                    Fetch(client, new Uri(mirror + file.GzName), file, target, progress, cancellationToken);
                    done = true;
                    break;
                }
                catch (Exception error) when (error is HttpRequestException or IOException or TaskCanceledException or InvalidDataException)
                {
                    if (error is TaskCanceledException && cancellationToken.IsCancellationRequested)
                    {
                        throw;
                    }

                    errors.Add($"{mirror}{file.GzName}: {Describe(error)}");
                }
            }

            if (!done)
            {
                throw new IOException(string.Join("; ", errors));
            }
        }

        return DataLocator.InFolder(info, folder) ?? throw new IOException($"The downloaded files are not all in {folder}.");
    }

    /// <summary>Computes the sha256 a file is checked by: of its bytes, or of its gzip-decompressed content.</summary>
    /// <param name="path">The file.</param>
    /// <param name="kind">What the checksum covers.</param>
    /// <returns>The lower-case hex digest.</returns>
    public static string Sha256(string path, ChecksumKind kind)
    {
        using var stream = File.OpenRead(path);
        using var content = kind == ChecksumKind.Decompressed ? new GZipStream(stream, CompressionMode.Decompress) : (Stream)stream;
        return Convert.ToHexStringLower(SHA256.HashData(content));
    }

    private static void Fetch(HttpClient client, Uri uri, IdxFile file, string target, DownloadProgress? progress, CancellationToken cancellationToken)
    {
        using var response = client.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, cancellationToken).GetAwaiter().GetResult();
        response.EnsureSuccessStatusCode();
        var total = response.Content.Headers.ContentLength;
        var temporary = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(target))!, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var output = new FileStream(temporary, FileMode.CreateNew, FileAccess.ReadWrite))
            {
                using (var input = response.Content.ReadAsStream(cancellationToken))
                {
                    var buffer = new byte[1 << 16];
                    long received = 0;
                    progress?.Invoke(file.GzName, 0, total);
                    for (int n; (n = input.Read(buffer)) > 0;)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        output.Write(buffer, 0, n);
                        received += n;
                        progress?.Invoke(file.GzName, received, total);
                    }
                }

                output.Flush(flushToDisk: true);
                output.Position = 0;
                using var check = file.Checksum == ChecksumKind.Decompressed
                    ? new GZipStream(output, CompressionMode.Decompress, leaveOpen: true)
                    : (Stream)new NonClosingStream(output);
                var actual = Convert.ToHexStringLower(SHA256.HashData(check));
                if (!string.Equals(actual, file.Sha256, StringComparison.Ordinal))
                {
                    var what = file.Checksum == ChecksumKind.Decompressed ? "decompressed content" : "file";
                    throw new InvalidDataException($"sha256 of the {what} is {actual}, expected {file.Sha256}; the file was discarded");
                }
            }

            File.Move(temporary, target, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary))
            {
                File.Delete(temporary);
            }
        }
    }

    private static string Describe(Exception error) => error switch
    {
        TaskCanceledException => "timed out",
        HttpRequestException { StatusCode: { } code } => $"HTTP {(int)code} {code}",
        HttpRequestException http when http.InnerException is { } inner => inner.Message,
        _ => error.Message,
    };

    /// <summary>Wraps a stream so that disposing the wrapper leaves it open.</summary>
    private sealed class NonClosingStream(Stream inner) : Stream
    {
        public override bool CanRead => inner.CanRead;

        public override bool CanSeek => inner.CanSeek;

        public override bool CanWrite => false;

        public override long Length => inner.Length;

        public override long Position
        {
            get => inner.Position;
            set => inner.Position = value;
        }

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
