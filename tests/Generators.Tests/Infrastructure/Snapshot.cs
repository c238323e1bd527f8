using System.Runtime.CompilerServices;
using System.Text;
using System.Text.RegularExpressions;
using DiffPlex.DiffBuilder;
using DiffPlex.DiffBuilder.Model;
using Microsoft.CodeAnalysis;
using Xunit.Sdk;

namespace NeuralOde.Generators.Tests.Infrastructure;

/// <summary>
/// Snapshot tests of generated sources with Verify's file conventions (research/aesthetics.md C9), without Verify.
/// </summary>
/// <remarks>
/// <para>Files live in <c>Snapshots/</c> beside the calling test file, in the source tree. For a base name
/// <c>{Class}.{Method}</c> (plus <c>_{parameters}</c>), each generated source is stored as
/// <c>{Base}#{HintName minus .cs}.verified.cs</c> whose first line is <c>//HintName: {HintName}</c>, and the
/// generator's diagnostics, when there are any, as <c>{Base}.verified.txt</c>, one sorted line each.</para>
/// <para>A difference writes <c>*.received.*</c> beside the snapshot and fails with an inline diff; a verified file
/// with no counterpart fails as stale. With <c>UPDATE_SNAPSHOTS=1</c> outside CI the verified files are rewritten
/// instead; in CI they are never written.</para>
/// </remarks>
public static partial class Snapshot
{
    private const string VersionToken = "%VERSION%";

    private static readonly UTF8Encoding Utf8NoBom = new(encoderShouldEmitUTF8Identifier: false);

    /// <summary>Gets whether this run accepts changes: <c>UPDATE_SNAPSHOTS=1</c> and <c>CI</c> unset.</summary>
    public static bool Updating =>
        Environment.GetEnvironmentVariable("UPDATE_SNAPSHOTS") == "1" && !RunningInCi;

    private static bool RunningInCi => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI"));

    /// <summary>Compares a generator run's sources and diagnostics with the verified snapshots.</summary>
    /// <param name="run">The run.</param>
    /// <param name="parameters">The theory's parameters as <c>name=value</c>, or null for a fact.</param>
    /// <param name="file">The calling test file (the class name is its file name).</param>
    /// <param name="method">The calling test method.</param>
    public static void Verify(GeneratorRun run, string? parameters = null, [CallerFilePath] string file = "", [CallerMemberName] string method = "") =>
        Verify(run, parameters, includeRegistry: false, file, method);

    /// <summary>The registry's hint name: one registry snapshot (of every built-in together) covers it, so the other
    /// snapshots leave it out instead of storing the same few lines once per test.</summary>
    public const string RegistryHintName = "ButcherTableauRegistry.g.cs";

    /// <summary>Compares a generator run's sources (with or without the registry) and diagnostics with the snapshots.</summary>
    /// <param name="run">The run.</param>
    /// <param name="parameters">The theory's parameters as <c>name=value</c>, or null for a fact.</param>
    /// <param name="includeRegistry">Whether the registry file is part of the snapshot.</param>
    /// <param name="file">The calling test file (the class name is its file name).</param>
    /// <param name="method">The calling test method.</param>
    public static void Verify(GeneratorRun run, string? parameters, bool includeRegistry, [CallerFilePath] string file = "", [CallerMemberName] string method = "")
    {
        run.AssertGeneratorDidNotThrow();
        var directory = Path.Combine(Path.GetDirectoryName(file)!, "Snapshots");
        var baseName = $"{Path.GetFileNameWithoutExtension(file)}.{method}";
        if (parameters is not null)
        {
            baseName += "_" + Sanitize(parameters);
        }

        var files = Render(run);
        if (!includeRegistry)
        {
            files.Remove("#" + RegistryHintName[..^3] + ".verified.cs");
        }

        VerifyFiles(directory, baseName, files, Updating, RunningInCi);
    }

    /// <summary>Renders a run as the files a snapshot stores: name suffix (after the base name) → content.</summary>
    /// <param name="run">The run.</param>
    /// <returns>The files, keyed by suffix such as <c>#NeuralOde.Tableaux.Fehlberg45.g.verified.cs</c>.</returns>
    public static SortedDictionary<string, string> Render(GeneratorRun run)
    {
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var source in run.Result.GeneratedSources.OrderBy(static s => s.HintName, StringComparer.Ordinal))
        {
            var hint = source.HintName;
            var stem = hint.EndsWith(".cs", StringComparison.Ordinal) ? hint[..^3] : hint;
            files[$"#{stem}.verified.cs"] = Normalize($"//HintName: {hint}\n{Scrub(source.SourceText.ToString())}");
        }

        var diagnostics = run.GeneratorDiagnostics.Select(GeneratorHarness.Format).Order(StringComparer.Ordinal).ToList();
        if (diagnostics.Count > 0)
        {
            files[".verified.txt"] = string.Join("\n", diagnostics) + "\n";
        }

        return files;
    }

    /// <summary>Replaces the generator's version inside <c>GeneratedCode(...)</c> with a fixed token.</summary>
    /// <param name="text">Generated source.</param>
    /// <returns>The scrubbed source.</returns>
    public static string Scrub(string text) =>
        GeneratedCodeVersion().Replace(text, m => m.Groups["head"].Value + VersionToken + m.Groups["tail"].Value);

    /// <summary>Compares rendered files with the snapshots of one base name (the core of <see cref="Verify(GeneratorRun, string?, string, string)"/>).</summary>
    /// <param name="directory">The snapshot folder.</param>
    /// <param name="baseName">The base name, <c>{Class}.{Method}</c>.</param>
    /// <param name="actual">The files, keyed by suffix after the base name.</param>
    /// <param name="updating">Whether to accept changes.</param>
    /// <param name="ci">Whether this is a CI run (never writes verified files, whatever <paramref name="updating"/> says).</param>
    internal static void VerifyFiles(string directory, string baseName, IReadOnlyDictionary<string, string> actual, bool updating, bool ci)
    {
        updating &= !ci;
        actual = actual.ToDictionary(static p => p.Key, static p => Normalize(p.Value), StringComparer.Ordinal);
        Directory.CreateDirectory(directory);
        var existing = Directory.EnumerateFiles(directory)
            .Select(Path.GetFileName)
            .OfType<string>()
            .Where(name => BelongsTo(name, baseName))
            .ToList();
        var verified = existing.Where(static n => n.Contains(".verified.", StringComparison.Ordinal))
            .Select(n => n[baseName.Length..])
            .ToHashSet(StringComparer.Ordinal);

        var problems = new List<string>();
        foreach (var (suffix, content) in actual.OrderBy(static p => p.Key, StringComparer.Ordinal))
        {
            var verifiedPath = Path.Combine(directory, baseName + suffix);
            var receivedPath = Path.Combine(directory, baseName + suffix.Replace(".verified.", ".received.", StringComparison.Ordinal));
            var expected = verified.Contains(suffix) ? Read(verifiedPath) : null;
            if (expected == content)
            {
                File.Delete(receivedPath);
                continue;
            }

            if (updating)
            {
                File.WriteAllText(verifiedPath, content, Utf8NoBom);
                File.Delete(receivedPath);
                continue;
            }

            File.WriteAllText(receivedPath, content, Utf8NoBom);
            problems.Add(expected is null
                ? $"New file {baseName + suffix} (no verified snapshot; received written):\n{Indent(content)}"
                : $"Changed {baseName + suffix} (received written):\n{InlineDiff(expected, content)}");
        }

        foreach (var stale in verified.Where(s => !actual.ContainsKey(s)).Order(StringComparer.Ordinal))
        {
            var path = Path.Combine(directory, baseName + stale);
            if (updating)
            {
                File.Delete(path);
            }
            else
            {
                problems.Add($"Stale {baseName + stale}: the generator no longer produces it.");
            }
        }

        if (problems.Count == 0)
        {
            foreach (var received in existing.Where(static n => n.Contains(".received.", StringComparison.Ordinal)))
            {
                File.Delete(Path.Combine(directory, received));
            }

            return;
        }

        var hint = ci
            ? "Snapshots are never accepted in CI."
            : "Review the *.received.* files; accept with UPDATE_SNAPSHOTS=1.";
        throw new XunitException($"Snapshot mismatch for {baseName} in {directory}. {hint}\n\n{string.Join("\n\n", problems)}");
    }

    // A file belongs to a base when its name is the base followed by '#' (a source) or by ".verified."/".received."
    // (the diagnostics), so that "X.M_p=1" never claims the files of "X.M_p=10".
    private static bool BelongsTo(string name, string baseName) =>
        name.StartsWith(baseName, StringComparison.Ordinal)
        && name.Length > baseName.Length
        && (name[baseName.Length] == '#'
            || name.AsSpan(baseName.Length).StartsWith(".verified.", StringComparison.Ordinal)
            || name.AsSpan(baseName.Length).StartsWith(".received.", StringComparison.Ordinal))
        && (name.EndsWith(".cs", StringComparison.Ordinal) || name.EndsWith(".txt", StringComparison.Ordinal));

    private static string Read(string path) => Normalize(File.ReadAllText(path, Encoding.UTF8));

    private static string Normalize(string text) => text.TrimStart('\uFEFF').Replace("\r\n", "\n", StringComparison.Ordinal);

    private static string Sanitize(string parameters)
    {
        var invalid = Path.GetInvalidFileNameChars();
        return new string([.. parameters.Select(c => invalid.Contains(c) || c is '#' or ' ' ? '_' : c)]);
    }

    private static string Indent(string text) =>
        string.Join("\n", text.Split('\n').Take(60).Select(static l => "  + " + l));

    private static string InlineDiff(string expected, string actual)
    {
        var lines = InlineDiffBuilder.Diff(expected, actual, ignoreWhiteSpace: false).Lines;
        var show = new bool[lines.Count];
        const int context = 2;
        for (var i = 0; i < lines.Count; i++)
        {
            if (lines[i].Type != ChangeType.Unchanged)
            {
                for (var j = Math.Max(0, i - context); j <= Math.Min(lines.Count - 1, i + context); j++)
                {
                    show[j] = true;
                }
            }
        }

        var builder = new StringBuilder();
        for (var i = 0; i < lines.Count; i++)
        {
            if (!show[i])
            {
                if (i > 0 && show[i - 1])
                {
                    builder.Append("  ...\n");
                }

                continue;
            }

            var line = lines[i];
            var prefix = line.Type switch
            {
                ChangeType.Inserted => "+ ",
                ChangeType.Deleted => "- ",
                _ => "  ",
            };
            builder.Append($"{line.Position?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "",5} {prefix}{line.Text}\n");
        }

        return builder.ToString();
    }

    [GeneratedRegex("""(?<head>GeneratedCode(?:Attribute)?\(\s*"[^"]*"\s*,\s*")[^"]*(?<tail>"\s*\))""")]
    private static partial Regex GeneratedCodeVersion();
}
