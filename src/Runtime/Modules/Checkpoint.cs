using static TorchSharp.torch;

namespace NeuralOde.Modules;

/// <summary>Saves and loads module weights (TorchSharp's state-dict format) without ever leaving a partial file.</summary>
public static class Checkpoint
{
    /// <summary>Writes the module's state dict to <paramref name="path"/> atomically: a temporary file in the same
    /// folder, flushed to disk, then renamed over the target.</summary>
    /// <param name="module">The module.</param>
    /// <param name="path">The target file.</param>
    public static void Save(nn.Module module, string path)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        WriteAtomically(path, stream =>
        {
            using var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
            module.save(writer);
            writer.Flush();
        });
    }

    /// <summary>Loads weights saved by <see cref="Save"/> into a module of the same structure.</summary>
    /// <param name="module">The module to fill.</param>
    /// <param name="path">The file.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file does not match the module (names, shapes or dtypes).</exception>
    public static void Load(nn.Module module, string path)
    {
        ArgumentNullException.ThrowIfNull(module);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"No checkpoint at '{path}'.", path);
        }

        try
        {
            using var stream = File.OpenRead(path);
            using var reader = new BinaryReader(stream);
            module.load(reader, strict: true);
        }
        catch (Exception error) when (error is ArgumentException or InvalidOperationException or EndOfStreamException or IOException)
        {
            throw new InvalidDataException($"The checkpoint '{path}' does not fit this model: {error.Message}", error);
        }
    }

    /// <summary>Writes a file atomically: the content goes to a temporary file beside the target, is flushed to
    /// disk, and replaces the target by a rename. A crash leaves either the old file or the new one.</summary>
    /// <param name="path">The target file.</param>
    /// <param name="write">Writes the content.</param>
    public static void WriteAtomically(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        var full = Path.GetFullPath(path);
        var folder = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(folder);
        var temporary = Path.Combine(folder, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary))
            {
                File.Delete(temporary);
            }
        }
    }
}
