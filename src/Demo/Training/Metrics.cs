using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using NeuralOde.Modules;

namespace NeuralOde.Demo.Training;

/// <summary>One epoch's metrics.</summary>
internal sealed record EpochMetrics
{
    /// <summary>Gets the epoch (1-based).</summary>
    public int Epoch { get; init; }

    /// <summary>Gets the mean training loss (cross-entropy) over the epoch's batches.</summary>
    public double TrainLoss { get; init; }

    /// <summary>Gets the training accuracy over the epoch (while the weights changed).</summary>
    public double TrainAccuracy { get; init; }

    /// <summary>Gets the test loss after the epoch.</summary>
    public double TestLoss { get; init; }

    /// <summary>Gets the test accuracy after the epoch.</summary>
    public double TestAccuracy { get; init; }

    /// <summary>Gets the mean forward NFE per training batch (calls of the dynamics; 1 for the MLP).</summary>
    public double ForwardNfe { get; init; }

    /// <summary>Gets the mean backward NFE per training batch (adjoint only; 0 with backprop).</summary>
    public double BackwardNfe { get; init; }

    /// <summary>Gets the mean forward NFE per test batch.</summary>
    public double TestForwardNfe { get; init; }

    /// <summary>Gets the training time of the epoch in seconds.</summary>
    public double EpochSeconds { get; init; }

    /// <summary>Gets the evaluation time after the epoch in seconds.</summary>
    public double EvalSeconds { get; init; }
}

/// <summary>Writes the metrics history as CSV and JSON, each atomically.</summary>
internal static class MetricsFiles
{
    /// <summary>The CSV header.</summary>
    public const string CsvHeader = "epoch,train_loss,train_accuracy,test_loss,test_accuracy,forward_nfe,backward_nfe,test_forward_nfe,epoch_seconds,eval_seconds";

    /// <summary>Writes <c>metrics.csv</c> and <c>metrics.json</c> into a folder.</summary>
    /// <param name="folder">The run's folder.</param>
    /// <param name="options">The run's options (in the JSON).</param>
    /// <param name="history">The epochs so far.</param>
    public static void Write(string folder, TrainingOptions options, IReadOnlyList<EpochMetrics> history)
    {
        ArgumentNullException.ThrowIfNull(history);
        var csv = new StringBuilder().Append(CsvHeader).Append('\n');
        foreach (var m in history)
        {
            csv.Append(string.Join(',', new[]
            {
                m.Epoch.ToString(CultureInfo.InvariantCulture),
                F(m.TrainLoss), F(m.TrainAccuracy), F(m.TestLoss), F(m.TestAccuracy),
                F(m.ForwardNfe), F(m.BackwardNfe), F(m.TestForwardNfe), F(m.EpochSeconds), F(m.EvalSeconds),
            })).Append('\n');
        }

        WriteText(Path.Combine(folder, "metrics.csv"), csv.ToString());
        var json = JsonSerializer.Serialize(new MetricsDocument(options, history), DemoJsonContext.Default.MetricsDocument);
        WriteText(Path.Combine(folder, "metrics.json"), json + "\n");
    }

    /// <summary>Reads <c>metrics.json</c>.</summary>
    /// <param name="folder">The run's folder.</param>
    /// <returns>The document.</returns>
    public static MetricsDocument Read(string folder)
    {
        var path = Path.Combine(folder, "metrics.json");
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"No metrics.json in {folder}: is it the folder of a train run?", path);
        }

        return JsonSerializer.Deserialize(File.ReadAllText(path), DemoJsonContext.Default.MetricsDocument)
            ?? throw new InvalidDataException($"{path} is empty.");
    }

    /// <summary>Writes UTF-8 text atomically.</summary>
    /// <param name="path">The file.</param>
    /// <param name="text">The content.</param>
    public static void WriteText(string path, string text) =>
        Checkpoint.WriteAtomically(path, stream => stream.Write(Encoding.UTF8.GetBytes(text)));

    private static string F(double value) => value.ToString("G6", CultureInfo.InvariantCulture);
}

/// <summary>The content of <c>metrics.json</c>.</summary>
/// <param name="Options">The run's options.</param>
/// <param name="Epochs">The epochs' metrics.</param>
internal sealed record MetricsDocument(TrainingOptions Options, IReadOnlyList<EpochMetrics> Epochs);

/// <summary>What a full checkpoint stores besides the weights and the optimizer state.</summary>
/// <param name="Format">The format's name and version.</param>
/// <param name="Options">The run's options.</param>
/// <param name="EpochsDone">The epochs completed.</param>
/// <param name="History">Their metrics.</param>
/// <param name="Rng">How the random streams are derived (for people reading the file).</param>
internal sealed record CheckpointState(string Format, TrainingOptions Options, int EpochsDone, IReadOnlyList<EpochMetrics> History, string Rng);

/// <summary>Source-generated JSON for the demo's training files (camelCase, indented).</summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(MetricsDocument))]
[JsonSerializable(typeof(CheckpointState))]
[JsonSerializable(typeof(ModelSpec))]
internal sealed partial class DemoJsonContext : JsonSerializerContext
{
}
