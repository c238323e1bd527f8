using System.Text.RegularExpressions;

namespace NeuralOde.Tests;

/// <summary>Every relative link of the README and of docs/ leads to a file of this repository (and to a heading
/// there, when it names one): nothing points outside the clone.</summary>
public sealed partial class DocumentationLinksTests
{
    private static readonly string Root = FindRoot();

    public static TheoryData<string> Pages()
    {
        var pages = new TheoryData<string>();
        foreach (var page in new[] { "README.md", "CHANGELOG.md", Path.Combine("testdata", "README.md") }
            .Concat(Directory.GetFiles(Path.Combine(Root, "docs"), "*.md", SearchOption.AllDirectories)
                .Where(static p => !p.Contains(Path.Combine("docs", "api") + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                .Select(static p => Path.GetRelativePath(Root, p)))
            .Order(StringComparer.Ordinal))
        {
            pages.Add(page);
        }

        return pages;
    }

    [Theory]
    [MemberData(nameof(Pages))]
    public void EveryRelativeLinkResolvesInsideTheRepository(string page)
    {
        var path = Path.Combine(Root, page);
        var broken = new List<string>();
        foreach (var target in Links(File.ReadAllText(path)))
        {
            if (Problem(path, target) is { } problem)
            {
                broken.Add($"{target}: {problem}");
            }
        }

        Assert.True(broken.Count == 0, $"{page}:{Environment.NewLine}{string.Join(Environment.NewLine, broken)}");
    }

    [Fact]
    public void TheCheckFindsABrokenLink()
    {
        var page = Path.Combine(Root, "docs", "schemes.md");

        Assert.Equal(["../shared/DESIGN.md", "missing.md", "schemes.md#no-such-heading"], Links("[a](../shared/DESIGN.md) `[b](x.md)` [c](missing.md) [d](schemes.md#no-such-heading) [e](https://example.org)").Where(t => Problem(page, t) is not null));
        Assert.Null(Problem(page, "diagnostics/README.md"));
        Assert.Null(Problem(page, "#built-in-rungekutta-schemes"));
    }

    /// <summary>Lists the targets of a Markdown page's inline links and images, outside code.</summary>
    private static IEnumerable<string> Links(string markdown)
    {
        var prose = FencedCode().Replace(markdown, "");
        prose = InlineCode().Replace(prose, "");
        return LinkTarget().Matches(prose).Select(static m => m.Groups["target"].Value);
    }

    /// <summary>Says what is wrong with a link, or null when it resolves.</summary>
    private static string? Problem(string page, string target)
    {
        if (target.StartsWith("http://", StringComparison.Ordinal) || target.StartsWith("https://", StringComparison.Ordinal)
            || target.StartsWith("mailto:", StringComparison.Ordinal) || target.StartsWith("xref:", StringComparison.Ordinal))
        {
            return null;
        }

        var hash = target.IndexOf('#', StringComparison.Ordinal);
        var file = hash >= 0 ? target[..hash] : target;
        var anchor = hash >= 0 ? target[(hash + 1)..] : null;
        var full = file.Length == 0 ? page : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(page)!, Uri.UnescapeDataString(file)));
        if (!full.StartsWith(Root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            return "outside the repository";
        }

        if (!File.Exists(full) && !Directory.Exists(full))
        {
            return "no such file";
        }

        if (anchor is not null && full.EndsWith(".md", StringComparison.Ordinal) && !Headings(File.ReadAllText(full)).Contains(anchor))
        {
            return $"no heading '#{anchor}' in {Path.GetRelativePath(Root, full)}";
        }

        return null;
    }

    /// <summary>The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces to hyphens.</summary>
    private static HashSet<string> Headings(string markdown) =>
        [.. Heading().Matches(FencedCode().Replace(markdown, "")).Select(static m =>
            Punctuation().Replace(m.Groups["text"].Value.Trim().ToLowerInvariant(), "").Replace(' ', '-'))];

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "NeuralOde.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("NeuralOde.sln not found above the test's folder.");
    }

    [GeneratedRegex(@"^\s*(```|~~~).*?^\s*\1", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex FencedCode();

    [GeneratedRegex(@"`[^`\n]*`")]
    private static partial Regex InlineCode();

    [GeneratedRegex(@"!?\[[^\]\n]*\]\((?<target>[^)\s]+)(\s+""[^""]*"")?\)")]
    private static partial Regex LinkTarget();

    [GeneratedRegex(@"^#{1,6}\s+(?<text>.+?)\s*#*\s*$", RegexOptions.Multiline)]
    private static partial Regex Heading();

    [GeneratedRegex(@"[^\p{L}\p{Nd}\s_-]")]
    private static partial Regex Punctuation();
}
