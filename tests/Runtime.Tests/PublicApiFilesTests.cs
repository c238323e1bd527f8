using System.Diagnostics;
using System.Text.Json;

namespace NeuralOde.Tests;

/// <summary>The public API is tracked by Microsoft.CodeAnalysis.PublicApiAnalyzers: the files are wired into the
/// build (an undeclared public change is then error RS0016), plain sorted text, and they name every public type.</summary>
public sealed class PublicApiFilesTests
{
    private static string RepositoryRoot()
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

    private static string[] Lines(string name) => File.ReadAllLines(Path.Combine(RepositoryRoot(), "src", "Runtime", name));

    [Theory]
    [InlineData("PublicAPI.Shipped.txt")]
    [InlineData("PublicAPI.Unshipped.txt")]
    public void TheFilesArePlainSortedText(string name)
    {
        var lines = Lines(name);

        Assert.Equal("#nullable enable", lines[0]);
        var entries = lines[1..];
        Assert.DoesNotContain(entries, static line => line.Trim().Length == 0 || line != line.Trim());
        Assert.Equal(entries.Order(StringComparer.Ordinal), entries);
        Assert.Equal(entries.Length, entries.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void NothingHasShippedYet() => Assert.Equal(["#nullable enable"], Lines("PublicAPI.Shipped.txt"));

    [Fact]
    public void EveryPublicTypeIsDeclared()
    {
        var declared = Lines("PublicAPI.Shipped.txt").Concat(Lines("PublicAPI.Unshipped.txt")).ToHashSet(StringComparer.Ordinal);
        var types = typeof(Schemes).Assembly.GetExportedTypes();

        Assert.NotEmpty(types);
        Assert.All(types, type => Assert.Contains(ApiName(type), declared));
    }

    [Fact]
    public void TheAnalyzerReadsTheFilesOnEveryTargetFramework()
    {
        foreach (var framework in new[] { "net8.0", "net10.0" })
        {
            var (code, output) = Msbuild(Path.Combine("src", "Runtime", "Runtime.csproj"), $"-p:TargetFramework={framework}", "-getItem:AdditionalFiles", "-getItem:PackageReference");
            Assert.True(code == 0, output);
            var items = JsonDocument.Parse(output).RootElement.GetProperty("Items");
            var files = items.GetProperty("AdditionalFiles").EnumerateArray().Select(static i => Path.GetFileName(i.GetProperty("Identity").GetString()!)).ToList();
            Assert.Contains("PublicAPI.Shipped.txt", files);
            Assert.Contains("PublicAPI.Unshipped.txt", files);
            Assert.Contains("Microsoft.CodeAnalysis.PublicApiAnalyzers", items.GetProperty("PackageReference").EnumerateArray().Select(static i => i.GetProperty("Identity").GetString()));
        }
    }

    // The analyzer's spelling of a type: namespace-qualified, nested types after a dot, type parameters in <>.
    private static string ApiName(Type type)
    {
        var name = type.Name.Split('`')[0];
        var own = type.GetGenericArguments().Skip(type.DeclaringType?.GetGenericArguments().Length ?? 0).ToList();
        if (own.Count > 0)
        {
            name += "<" + string.Join(", ", own.Select(static a => a.Name)) + ">";
        }

        return type.DeclaringType is { } outer ? ApiName(outer) + "." + name : type.Namespace + "." + name;
    }

    private static (int ExitCode, string Output) Msbuild(params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = RepositoryRoot(),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in new[] { "msbuild", "-nologo" }.Concat(arguments))
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(2)), "msbuild did not finish");
        return (process.ExitCode, output.Result + error.Result);
    }
}
