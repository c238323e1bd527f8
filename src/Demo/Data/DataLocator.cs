namespace NeuralOde.Demo.Data;

/// <summary>No folder holds a data set and it could not be downloaded; the message names every option.</summary>
internal sealed class DataNotFoundException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What was searched and what to do.</param>
    /// <param name="inner">The download error, if any.</param>
    public DataNotFoundException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}

/// <summary>A folder that holds all four files of a data set, and each file's path (.gz or uncompressed).</summary>
/// <param name="Folder">The folder.</param>
/// <param name="Paths">The path of each file, in <see cref="DatasetInfo.Files"/> order.</param>
internal sealed record DataLocation(string Folder, IReadOnlyList<string> Paths)
{
    /// <summary>Gets the path of one of the data set's files.</summary>
    /// <param name="info">The data set.</param>
    /// <param name="file">One of its files.</param>
    /// <returns>The path.</returns>
    public string PathOf(DatasetInfo info, IdxFile file)
    {
        ArgumentNullException.ThrowIfNull(info);
        var index = info.Files.ToList().IndexOf(file);
        return index >= 0 ? Paths[index] : throw new ArgumentException($"{file.Name} is not a file of {info.DisplayName}.", nameof(file));
    }
}

/// <summary>
/// Finds a data set's IDX files. The folders searched, in order: <c>--data DIR</c> (and <c>DIR/&lt;dataset&gt;</c>),
/// <c>$NEURALODE_DATA</c> (and its <c>&lt;dataset&gt;</c> subfolder), the per-user cache
/// (<c>$XDG_CACHE_HOME/neuralode/&lt;dataset&gt;</c>, by default <c>~/.cache/neuralode/&lt;dataset&gt;</c>),
/// <c>shared/data/&lt;dataset&gt;</c> found walking up from the current folder and from the app's folder, and
/// the distribution's folders (Debian's <c>/usr/share/datasets/fashion-mnist</c>). Each file may be gzip-compressed
/// (<c>name.gz</c>) or not (<c>name</c>).
/// </summary>
internal static class DataLocator
{
    /// <summary>The environment variable naming a data folder.</summary>
    public const string EnvironmentVariable = "NEURALODE_DATA";

    /// <summary>Gets the per-user cache folder of a data set (where downloads go).</summary>
    /// <param name="info">The data set.</param>
    /// <returns>The folder (it may not exist).</returns>
    public static string CacheFolder(DatasetInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        var root = !string.IsNullOrWhiteSpace(xdg) && Path.IsPathRooted(xdg)
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(root, "neuralode", info.Id);
    }

    /// <summary>Lists the folders searched, in order, without duplicates.</summary>
    /// <param name="info">The data set.</param>
    /// <param name="dataOption">The <c>--data</c> folder, or null.</param>
    /// <returns>The candidate folders.</returns>
    public static IReadOnlyList<string> Candidates(DatasetInfo info, string? dataOption)
    {
        ArgumentNullException.ThrowIfNull(info);
        var list = new List<string>();
        void Add(string? folder)
        {
            if (string.IsNullOrWhiteSpace(folder))
            {
                return;
            }

            var full = Path.GetFullPath(folder);
            if (!list.Contains(full, StringComparer.Ordinal))
            {
                list.Add(full);
            }
        }

        if (dataOption is not null)
        {
            Add(dataOption);
            Add(Path.Combine(dataOption, info.Id));
        }

        var environment = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(environment))
        {
            Add(environment);
            Add(Path.Combine(environment, info.Id));
        }

        Add(CacheFolder(info));
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            Add(SharedFolderAbove(info, start));
        }

        foreach (var folder in info.SystemFolders)
        {
            Add(folder);
        }

        return list;
    }

    /// <summary>Walks up from <paramref name="start"/> and returns the first <c>shared/data/&lt;dataset&gt;</c> folder.</summary>
    /// <param name="info">The data set.</param>
    /// <param name="start">The folder to start from.</param>
    /// <returns>The folder's full path, or null when no folder above has one.</returns>
    public static string? SharedFolderAbove(DatasetInfo info, string start)
    {
        ArgumentNullException.ThrowIfNull(info);
        for (var dir = new DirectoryInfo(Path.GetFullPath(start)); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "data", info.Id);
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>Finds the first candidate folder that holds all four files. A <c>--data</c> folder is the only place
    /// looked at when given: a folder the user names is never silently replaced by another one.</summary>
    /// <param name="info">The data set.</param>
    /// <param name="dataOption">The <c>--data</c> folder, or null.</param>
    /// <returns>The location, or null when no folder has all the files.</returns>
    public static DataLocation? Find(DatasetInfo info, string? dataOption)
    {
        ArgumentNullException.ThrowIfNull(info);
        if (dataOption is not null)
        {
            return InFolder(info, dataOption) ?? InFolder(info, Path.Combine(dataOption, info.Id));
        }

        foreach (var folder in Candidates(info, dataOption))
        {
            if (InFolder(info, folder) is { } found)
            {
                return found;
            }
        }

        return null;
    }

    /// <summary>Returns the location if <paramref name="folder"/> holds all four files (.gz or uncompressed).</summary>
    /// <param name="info">The data set.</param>
    /// <param name="folder">The folder.</param>
    /// <returns>The location, or null.</returns>
    public static DataLocation? InFolder(DatasetInfo info, string folder)
    {
        ArgumentNullException.ThrowIfNull(info);
        if (!Directory.Exists(folder))
        {
            return null;
        }

        var paths = new List<string>();
        foreach (var file in info.Files)
        {
            var gz = Path.Combine(folder, file.GzName);
            var raw = Path.Combine(folder, file.Name);
            if (File.Exists(gz))
            {
                paths.Add(gz);
            }
            else if (File.Exists(raw))
            {
                paths.Add(raw);
            }
            else
            {
                return null;
            }
        }

        return new DataLocation(folder, paths);
    }

    /// <summary>Builds the message shown when the data set is neither found nor downloadable.</summary>
    /// <param name="info">The data set.</param>
    /// <param name="dataOption">The <c>--data</c> folder, or null.</param>
    /// <param name="reason">Why the download did not happen.</param>
    /// <returns>The message.</returns>
    public static string NotFoundMessage(DatasetInfo info, string? dataOption, string reason)
    {
        ArgumentNullException.ThrowIfNull(info);
        var files = string.Join(", ", info.Files.Select(static f => f.GzName));
        var searched = string.Join(Environment.NewLine, Candidates(info, dataOption).Select(static c => "  - " + c));
        var lines = new List<string>
        {
            $"{info.DisplayName} was not found and could not be downloaded: {reason}",
            $"It needs the four IDX files ({files}; uncompressed names work too). Searched:",
            searched,
            "Give it one of these ways:",
            "  - --data DIR: a folder with the four files (or with a '" + info.Id + "' subfolder holding them);",
            $"  - ${EnvironmentVariable}=DIR: the same, for every command;",
            $"  - copy the files into the cache folder {CacheFolder(info)} (downloads go there when online: {info.Mirrors[0]});",
            $"  - a shared/data/{info.Id} folder next to the repository (found by walking up from the current folder).",
        };
        if (info.SystemPackageHint is not null)
        {
            lines.Add("  - " + info.SystemPackageHint + ".");
        }

        return string.Join(Environment.NewLine, lines);
    }
}
