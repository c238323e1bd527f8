using System.Text;
using NeuralOde.Generators.Tests.Infrastructure;
using Xunit;
using Xunit.Sdk;

namespace NeuralOde.Generators.Tests;

/// <summary>The snapshot helper's own rules (aesthetics C9), on a temporary folder.</summary>
public sealed class SnapshotHelperTests : IDisposable
{
    private const string Base = "Tests.Method";

    private readonly string directory = Path.Combine(Path.GetTempPath(), "neuralode-snapshots-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void MatchingFiles_Pass_AndDeleteLeftoverReceived()
    {
        Write("#A.g.verified.cs", "//HintName: A.g.cs\nclass A {}\n");
        Write("#A.g.received.cs", "old");

        Snapshot.VerifyFiles(directory, Base, Files(("#A.g.verified.cs", "//HintName: A.g.cs\nclass A {}\n")), updating: false, ci: false);

        Assert.Equal(["Tests.Method#A.g.verified.cs"], Names());
    }

    [Fact]
    public void VerifiedFileWithBomAndCrLf_MatchesNormalizedText()
    {
        File.WriteAllText(Path.Combine(Directory.CreateDirectory(directory).FullName, Base + "#A.g.verified.cs"), "a\r\nb\r\n", new UTF8Encoding(true));

        Snapshot.VerifyFiles(directory, Base, Files(("#A.g.verified.cs", "a\nb\n")), updating: false, ci: false);
    }

    [Fact]
    public void ChangedFile_WritesReceived_AndFailsWithDiff()
    {
        Write("#A.g.verified.cs", "one\ntwo\nthree\n");

        var error = Assert.Throws<XunitException>(() =>
            Snapshot.VerifyFiles(directory, Base, Files(("#A.g.verified.cs", "one\n2\nthree\n")), updating: false, ci: false));

        Assert.Contains("- two", error.Message, StringComparison.Ordinal);
        Assert.Contains("+ 2", error.Message, StringComparison.Ordinal);
        Assert.Equal("one\n2\nthree\n", Read("#A.g.received.cs"));
        Assert.Equal("one\ntwo\nthree\n", Read("#A.g.verified.cs"));
    }

    [Fact]
    public void MissingVerifiedFile_FailsAndWritesReceived()
    {
        var error = Assert.Throws<XunitException>(() =>
            Snapshot.VerifyFiles(directory, Base, Files((".verified.txt", "RKG011 | Info\n")), updating: false, ci: false));

        Assert.Contains("New file", error.Message, StringComparison.Ordinal);
        Assert.Equal(["Tests.Method.received.txt"], Names());
    }

    [Fact]
    public void StaleVerifiedFile_Fails()
    {
        Write("#A.g.verified.cs", "a\n");
        Write("#B.g.verified.cs", "b\n");

        var error = Assert.Throws<XunitException>(() =>
            Snapshot.VerifyFiles(directory, Base, Files(("#A.g.verified.cs", "a\n")), updating: false, ci: false));

        Assert.Contains("Stale Tests.Method#B.g.verified.cs", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Updating_OverwritesVerified_DeletesStale_AndWritesNoBom()
    {
        Write("#A.g.verified.cs", "old\n");
        Write("#B.g.verified.cs", "stale\n");
        Write("#A.g.received.cs", "old received\n");

        Snapshot.VerifyFiles(directory, Base, Files(("#A.g.verified.cs", "new\n"), (".verified.txt", "d\n")), updating: true, ci: false);

        Assert.Equal(["Tests.Method#A.g.verified.cs", "Tests.Method.verified.txt"], Names());
        Assert.Equal("new\n"u8.ToArray(), File.ReadAllBytes(Path.Combine(directory, Base + "#A.g.verified.cs")));
    }

    [Fact]
    public void UpdatingInCi_NeverWritesVerified()
    {
        Assert.Throws<XunitException>(() =>
            Snapshot.VerifyFiles(directory, Base, Files(("#A.g.verified.cs", "new\n")), updating: true, ci: true));

        Assert.Equal(["Tests.Method#A.g.received.cs"], Names());
    }

    [Fact]
    public void FilesOfALongerBaseName_AreNotClaimed()
    {
        Write("#A.g.verified.cs", "a\n");
        File.WriteAllText(Path.Combine(directory, Base + "_p=10#A.g.verified.cs"), "other\n");
        File.WriteAllText(Path.Combine(directory, Base + "2.verified.txt"), "other\n");

        Snapshot.VerifyFiles(directory, Base, Files(("#A.g.verified.cs", "a\n")), updating: true, ci: false);

        Assert.Equal(["Tests.Method#A.g.verified.cs", "Tests.Method2.verified.txt", "Tests.Method_p=10#A.g.verified.cs"], Names());
    }

    [Fact]
    public void Scrub_ReplacesTheGeneratorVersion()
    {
        var scrubbed = Snapshot.Scrub("""[global::System.CodeDom.Compiler.GeneratedCode("NeuralOde.Generators", "1.2.3.4")]""");

        Assert.Equal("""[global::System.CodeDom.Compiler.GeneratedCode("NeuralOde.Generators", "%VERSION%")]""", scrubbed);
    }

    private static Dictionary<string, string> Files(params (string Suffix, string Content)[] files) =>
        files.ToDictionary(static f => f.Suffix, static f => f.Content, StringComparer.Ordinal);

    private void Write(string suffix, string content)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, Base + suffix), content);
    }

    private string Read(string suffix) => File.ReadAllText(Path.Combine(directory, Base + suffix));

    private string[] Names() =>
        [.. Directory.EnumerateFiles(directory).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal)];
}
