using System.Text;
using System.Text.Json;
using NeuralOde.Modules;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NeuralOde.Demo.Training;

/// <summary>
/// The files of one training run in its folder: <c>model.json</c> (the architecture), <c>model.bin</c> (the weights,
/// TorchSharp state dict), <c>checkpoint.bin</c> (state, weights and optimizer state together, for <c>--resume</c>),
/// <c>metrics.csv</c> and <c>metrics.json</c>. Every file is written atomically; <c>checkpoint.bin</c> is one file so
/// that a crash can never pair the weights of one epoch with the state of another.
/// </summary>
internal static class RunFolder
{
    /// <summary>The full checkpoint's file name.</summary>
    public const string CheckpointFile = "checkpoint.bin";

    /// <summary>The weights' file name.</summary>
    public const string WeightsFile = "model.bin";

    /// <summary>The architecture's file name.</summary>
    public const string SpecFile = "model.json";

    /// <summary>The first string of a checkpoint file.</summary>
    public const string Format = "NeuralOde.Demo checkpoint v1";

    /// <summary>Writes the full checkpoint (state + weights + optimizer) and the weights alone.</summary>
    /// <param name="folder">The run's folder.</param>
    /// <param name="state">The state.</param>
    /// <param name="model">The model.</param>
    /// <param name="optimizer">The optimizer.</param>
    public static void Save(string folder, CheckpointState state, nn.Module model, OptimizerHelper optimizer)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        Checkpoint.WriteAtomically(Path.Combine(folder, CheckpointFile), stream =>
        {
            using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
            writer.Write(Format);
            writer.Write(JsonSerializer.Serialize(state, DemoJsonContext.Default.CheckpointState));
            model.save(writer);
            optimizer.save_state_dict(writer);
            writer.Flush();
        });
        Checkpoint.Save(model, Path.Combine(folder, WeightsFile));
    }

    /// <summary>Reads only the state of a full checkpoint.</summary>
    /// <param name="folder">The run's folder.</param>
    /// <returns>The state, or null when the folder has no checkpoint.</returns>
    public static CheckpointState? ReadState(string folder)
    {
        var path = Path.Combine(folder, CheckpointFile);
        if (!File.Exists(path))
        {
            return null;
        }

        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream, Encoding.UTF8);
        return ReadHeader(reader, path);
    }

    /// <summary>Loads a full checkpoint into a model and its optimizer.</summary>
    /// <param name="folder">The run's folder.</param>
    /// <param name="model">The model, built from the same spec.</param>
    /// <param name="optimizer">The optimizer over the model's parameters.</param>
    /// <returns>The state.</returns>
    public static CheckpointState Load(string folder, nn.Module model, OptimizerHelper optimizer)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        var path = Path.Combine(folder, CheckpointFile);
        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream, Encoding.UTF8);
        var state = ReadHeader(reader, path);
        try
        {
            model.load(reader, strict: true);
            optimizer.load_state_dict(reader);
        }
        catch (Exception error) when (error is ArgumentException or InvalidOperationException or EndOfStreamException or IOException)
        {
            throw new InvalidDataException($"The checkpoint {path} does not fit this model or is damaged: {error.Message}", error);
        }

        return state;
    }

    /// <summary>Writes the architecture.</summary>
    /// <param name="folder">The run's folder.</param>
    /// <param name="spec">The architecture.</param>
    public static void SaveSpec(string folder, ModelSpec spec) =>
        MetricsFiles.WriteText(Path.Combine(folder, SpecFile), JsonSerializer.Serialize(spec, DemoJsonContext.Default.ModelSpec) + "\n");

    /// <summary>Rebuilds a trained model from a run folder: its <c>model.json</c> and <c>model.bin</c>.</summary>
    /// <param name="folder">The run's folder.</param>
    /// <returns>The architecture and the model with its trained weights, in evaluation mode.</returns>
    public static (ModelSpec Spec, nn.Module<Tensor, Tensor> Model) LoadModel(string folder)
    {
        var specPath = Path.Combine(folder, SpecFile);
        if (!File.Exists(specPath))
        {
            throw new FileNotFoundException($"{folder} has no {SpecFile}: give the folder of a finished train run (it holds model.json and model.bin).", specPath);
        }

        var spec = JsonSerializer.Deserialize(File.ReadAllText(specPath), DemoJsonContext.Default.ModelSpec)
            ?? throw new InvalidDataException($"{specPath} is empty.");
        var model = spec.Build();
        Checkpoint.Load(model, Path.Combine(folder, WeightsFile));
        model.eval();
        return (spec, model);
    }

    private static CheckpointState ReadHeader(BinaryReader reader, string path)
    {
        try
        {
            var format = reader.ReadString();
            if (format != Format)
            {
                throw new InvalidDataException($"{path} is not a {Format} file (it starts with '{format}').");
            }

            return JsonSerializer.Deserialize(reader.ReadString(), DemoJsonContext.Default.CheckpointState)
                ?? throw new InvalidDataException($"{path} has an empty state.");
        }
        catch (Exception error) when (error is EndOfStreamException or JsonException)
        {
            throw new InvalidDataException($"{path} is damaged: {error.Message}", error);
        }
    }
}
