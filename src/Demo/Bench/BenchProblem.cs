using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using TorchSharp;
using static TorchSharp.torch;

namespace NeuralOde.Demo.Bench;

/// <summary>
/// One benchmark problem of <c>testdata/bench</c> (format: its <c>PROBLEMS.md</c>): the header of
/// <c>problem.json</c> and its tensors, each file checked against its sha256 before it is read.
/// </summary>
/// <remarks>The problem owns its tensors (detached from every dispose scope); dispose it when done.</remarks>
internal sealed class BenchProblem : IDisposable
{
    private readonly Dictionary<string, Tensor> tensors;

    private BenchProblem(string directory, ProblemHeader header, Dictionary<string, Tensor> tensors)
    {
        Directory = directory;
        Header = header;
        this.tensors = tensors;
    }

    /// <summary>Gets the problem's folder.</summary>
    public string Directory { get; }

    /// <summary>Gets the parsed <c>problem.json</c>.</summary>
    public ProblemHeader Header { get; }

    /// <summary>Gets the problem's name, for example <c>mlp_d64_h64_b1024</c>.</summary>
    public string Name => Header.Name;

    /// <summary>Gets the problem's kind: <c>mlp</c>, <c>mlpt</c>, <c>stiff</c>, <c>expdecay</c> or <c>arenstorf</c>.</summary>
    public string Kind => Header.Spec.Kind;

    /// <summary>Gets the dtype the problem is solved in by contract (float32 or float64).</summary>
    public ScalarType DType => ParseDType(Header.Spec.DType, "spec.dtype", Path.Combine(Directory, ProblemFileName));

    /// <summary>Gets the names of the loaded tensors.</summary>
    public IReadOnlyCollection<string> TensorNames => tensors.Keys;

    /// <summary>The header file's name inside a problem folder.</summary>
    public const string ProblemFileName = "problem.json";

    /// <summary>Gets a tensor by its name in <c>problem.json</c>.</summary>
    /// <param name="name">The tensor's name, for example <c>y0</c>.</param>
    /// <returns>The tensor, owned by the problem (do not dispose it).</returns>
    /// <exception cref="BenchDataException">The problem has no such tensor.</exception>
    public Tensor this[string name] =>
        tensors.TryGetValue(name, out var tensor)
            ? tensor
            : throw new BenchDataException($"Problem '{Name}' has no tensor '{name}' (it has: {string.Join(", ", tensors.Keys)}).");

    /// <summary>Loads a problem folder: parses <c>problem.json</c>, then checks and reads every tensor it lists.</summary>
    /// <param name="directory">The problem's folder.</param>
    /// <returns>The problem.</returns>
    /// <exception cref="BenchDataException">A file is missing, malformed, of the wrong size or fails its sha256 check.</exception>
    public static BenchProblem Load(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        var headerPath = Path.Combine(directory, ProblemFileName);
        if (!File.Exists(headerPath))
        {
            throw new BenchDataException($"Benchmark problem header not found: {headerPath}.");
        }

        ProblemHeader header;
        try
        {
            header = JsonSerializer.Deserialize(File.ReadAllText(headerPath), BenchJsonContext.Default.ProblemHeader)
                ?? throw new BenchDataException($"{headerPath} is empty.");
        }
        catch (JsonException error)
        {
            throw new BenchDataException($"{headerPath} is not a valid problem header: {error.Message}", error);
        }

        if (header.FormatVersion != 1)
        {
            throw new BenchDataException($"{headerPath} has format_version {header.FormatVersion}; this program reads version 1.");
        }

        if (header.Spec is null || header.Tensors is null || string.IsNullOrEmpty(header.Name))
        {
            throw new BenchDataException($"{headerPath} lacks 'name', 'spec' or 'tensors'.");
        }

        var loaded = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var (name, entry) in header.Tensors)
            {
                loaded.Add(name, ReadTensor(directory, name, entry));
            }
        }
        catch
        {
            foreach (var tensor in loaded.Values)
            {
                tensor.Dispose();
            }

            throw;
        }

        return new BenchProblem(directory, header, loaded);
    }

    /// <summary>Checks one tensor file against its header entry and reads it: existence, then size, then sha256.</summary>
    /// <param name="directory">The problem's folder.</param>
    /// <param name="name">The tensor's name (for messages).</param>
    /// <param name="entry">The header entry.</param>
    /// <returns>The tensor, detached from any dispose scope.</returns>
    /// <exception cref="BenchDataException">The file is missing, has the wrong size or fails its sha256 check.</exception>
    public static Tensor ReadTensor(string directory, string name, TensorEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var headerPath = Path.Combine(directory, ProblemFileName);
        if (string.IsNullOrEmpty(entry.File) || entry.Shape is null || string.IsNullOrEmpty(entry.Sha256))
        {
            throw new BenchDataException($"Tensor '{name}' in {headerPath} lacks 'file', 'shape' or 'sha256'.");
        }

        if (entry.File.Contains('/') || entry.File.Contains('\\') || entry.File.Contains("..", StringComparison.Ordinal))
        {
            throw new BenchDataException($"Tensor '{name}' in {headerPath} names a file outside its folder: '{entry.File}'.");
        }

        var dtype = ParseDType(entry.DType, $"tensors.{name}.dtype", headerPath);
        var elementSize = dtype == ScalarType.Float64 ? 8 : 4;
        long count = 1;
        foreach (var dim in entry.Shape)
        {
            if (dim < 0)
            {
                throw new BenchDataException($"Tensor '{name}' in {headerPath} has a negative dimension: [{string.Join(", ", entry.Shape)}].");
            }

            count *= dim;
        }

        var path = Path.Combine(directory, entry.File);
        if (!File.Exists(path))
        {
            throw new BenchDataException($"Tensor file not found: {path} (tensor '{name}' of {headerPath}).");
        }

        var bytes = File.ReadAllBytes(path);
        var expectedBytes = count * elementSize;
        if (bytes.LongLength != expectedBytes)
        {
            throw new BenchDataException(
                $"{path} has {bytes.LongLength} bytes, but shape [{string.Join(", ", entry.Shape)}] of {entry.DType} needs {expectedBytes}: the file is truncated or does not belong to this header.");
        }

        var actual = Convert.ToHexStringLower(SHA256.HashData(bytes));
        if (!string.Equals(actual, entry.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new BenchDataException(
                $"{path} fails its sha256 check: problem.json expects {entry.Sha256.ToLowerInvariant()}, the file has {actual}. The file is corrupt or was changed; restore it from the repository's testdata/bench.");
        }

        var shape = entry.Shape.ToArray();
        Tensor tensor;
        if (dtype == ScalarType.Float64)
        {
            var values = new double[count];
            if (BitConverter.IsLittleEndian)
            {
                bytes.AsSpan().CopyTo(MemoryMarshal.AsBytes(values.AsSpan()));
            }
            else
            {
                for (var i = 0; i < values.Length; i++)
                {
                    values[i] = BinaryPrimitives.ReadDoubleLittleEndian(bytes.AsSpan(i * 8, 8));
                }
            }

            tensor = torch.tensor(values, shape, dtype: ScalarType.Float64);
        }
        else
        {
            var values = new float[count];
            if (BitConverter.IsLittleEndian)
            {
                bytes.AsSpan().CopyTo(MemoryMarshal.AsBytes(values.AsSpan()));
            }
            else
            {
                for (var i = 0; i < values.Length; i++)
                {
                    values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(i * 4, 4));
                }
            }

            tensor = torch.tensor(values, shape, dtype: ScalarType.Float32);
        }

        return tensor.DetachFromDisposeScope();
    }

    /// <summary>Disposes the problem's tensors.</summary>
    public void Dispose()
    {
        foreach (var tensor in tensors.Values)
        {
            tensor.Dispose();
        }

        tensors.Clear();
    }

    private static ScalarType ParseDType(string? text, string field, string headerPath) => text switch
    {
        "float32" => ScalarType.Float32,
        "float64" => ScalarType.Float64,
        _ => throw new BenchDataException(
            $"{headerPath}: {field} is '{text}', expected 'float32' or 'float64'."),
    };
}

/// <summary>A benchmark file is missing, malformed or corrupt; the message names the file.</summary>
internal sealed class BenchDataException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong, naming the file.</param>
    public BenchDataException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    /// <param name="message">What is wrong, naming the file.</param>
    /// <param name="inner">The cause.</param>
    public BenchDataException(string message, Exception inner)
        : base(message, inner)
    {
    }
}

/// <summary>The header of a problem folder, <c>problem.json</c>.</summary>
internal sealed record ProblemHeader
{
    /// <summary>Gets the format version (1).</summary>
    [JsonPropertyName("format_version")]
    public int FormatVersion { get; init; }

    /// <summary>Gets the problem's name.</summary>
    [JsonPropertyName("name")]
    public string Name { get; init; } = "";

    /// <summary>Gets the problem's specification.</summary>
    [JsonPropertyName("spec")]
    public ProblemSpec Spec { get; init; } = null!;

    /// <summary>Gets the start time.</summary>
    [JsonPropertyName("t0")]
    public double T0 { get; init; }

    /// <summary>Gets the end time.</summary>
    [JsonPropertyName("t1")]
    public double T1 { get; init; }

    /// <summary>Gets the tensors by name.</summary>
    [JsonPropertyName("tensors")]
    public Dictionary<string, TensorEntry> Tensors { get; init; } = null!;
}

/// <summary>The <c>spec</c> object of <c>problem.json</c>.</summary>
internal sealed record ProblemSpec
{
    /// <summary>Gets the kind of dynamics.</summary>
    [JsonPropertyName("kind")]
    public string Kind { get; init; } = "";

    /// <summary>Gets the state width D.</summary>
    [JsonPropertyName("D")]
    public int D { get; init; }

    /// <summary>Gets the hidden width H of MLP problems (0 otherwise).</summary>
    [JsonPropertyName("H")]
    public int H { get; init; }

    /// <summary>Gets the batch size B.</summary>
    [JsonPropertyName("B")]
    public int B { get; init; }

    /// <summary>Gets the dtype the problem is solved in.</summary>
    [JsonPropertyName("dtype")]
    public string DType { get; init; } = "";

    /// <summary>Gets the number of steps of the fixed-step RK4 reference runs.</summary>
    [JsonPropertyName("rk4_steps")]
    public int Rk4Steps { get; init; }

    /// <summary>Gets the number of steps of the fixed-step Euler reference runs.</summary>
    [JsonPropertyName("euler_steps")]
    public int EulerSteps { get; init; }

    /// <summary>Gets a short description, for messages.</summary>
    /// <returns>The description.</returns>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Kind} B={B} D={D}{(H > 0 ? $" H={H}" : "")} {DType}");
}

/// <summary>One tensor of <c>problem.json</c>: its file, dtype, shape and sha256.</summary>
internal sealed record TensorEntry
{
    /// <summary>Gets the file name inside the problem folder.</summary>
    [JsonPropertyName("file")]
    public string File { get; init; } = "";

    /// <summary>Gets the dtype, <c>float32</c> or <c>float64</c>.</summary>
    [JsonPropertyName("dtype")]
    public string DType { get; init; } = "";

    /// <summary>Gets the shape, outermost dimension first.</summary>
    [JsonPropertyName("shape")]
    public List<long> Shape { get; init; } = null!;

    /// <summary>Gets the file's sha256, lower-case hex.</summary>
    [JsonPropertyName("sha256")]
    public string Sha256 { get; init; } = "";
}

/// <summary><c>manifest.json</c> of the benchmark folder.</summary>
internal sealed record BenchManifest
{
    /// <summary>Gets the format version (1).</summary>
    [JsonPropertyName("format_version")]
    public int FormatVersion { get; init; }

    /// <summary>Gets the problem names, in order.</summary>
    [JsonPropertyName("problems")]
    public List<string> Problems { get; init; } = null!;
}
