namespace NeuralOde.Demo.Training;

/// <summary>Everything that determines a training run (saved with its checkpoints; a resumed run must match).</summary>
internal sealed record TrainingOptions
{
    /// <summary>Gets the architecture and solver.</summary>
    public ModelSpec Model { get; init; } = new();

    /// <summary>Gets the data set's id.</summary>
    public string Dataset { get; init; } = "mnist";

    /// <summary>Gets the number of epochs to reach (a resumed run continues up to this).</summary>
    public int Epochs { get; init; } = 3;

    /// <summary>Gets the mini-batch size.</summary>
    public int BatchSize { get; init; } = 128;

    /// <summary>Gets the batch size for evaluation (no gradients, so larger).</summary>
    public int EvalBatchSize { get; init; } = 1000;

    /// <summary>Gets Adam's learning rate.</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>Gets the factor the learning rate is multiplied by after every epoch: epoch e trains with
    /// <c>LearningRate * LrDecay^(e-1)</c> (a schedule that does not depend on the number of epochs, so a run can be
    /// extended with --resume). 1 keeps it constant.</summary>
    public double LrDecay { get; init; } = 0.75;

    /// <summary>Gets the learning rate of an epoch.</summary>
    /// <param name="epoch">The epoch (1-based).</param>
    /// <returns>The learning rate.</returns>
    public double LearningRateAt(int epoch) => LearningRate * Math.Pow(LrDecay, epoch - 1);

    /// <summary>Gets the label smoothing of the training loss (0 for plain cross-entropy; the test loss never smooths).</summary>
    public double LabelSmoothing { get; init; } = 0.1;

    /// <summary>Gets the seed: torch.manual_seed before building the model, and the shuffling of epoch e uses
    /// <c>new System.Random(ShuffleSeed(Seed, e))</c>, so a resumed epoch shuffles exactly as an uninterrupted one.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Gets the number of training items used (the first N), or null for all.</summary>
    public int? TrainLimit { get; init; }

    /// <summary>Gets the number of test items used (the first N), or null for all.</summary>
    public int? TestLimit { get; init; }

    /// <summary>Gets a one-line description of the optimization, e.g. <c>6 epochs, batch 128, Adam lr 0.001 × 0.75^(epoch-1), label smoothing 0.1, seed 1</c>.</summary>
    public string Describe() => FormattableString.Invariant(
        $"{Epochs} epochs, batch {BatchSize}, Adam lr {LearningRate} × {LrDecay}^(epoch-1), label smoothing {LabelSmoothing}, seed {Seed}");

    /// <summary>Gets the seed of epoch <paramref name="epoch"/>'s shuffle.</summary>
    /// <param name="seed">The run's seed.</param>
    /// <param name="epoch">The epoch (1-based).</param>
    /// <returns>The seed for <see cref="System.Random"/>.</returns>
    public static int ShuffleSeed(int seed, int epoch) => unchecked((seed * 1_000_003) + epoch);

    /// <summary>Checks the values.</summary>
    /// <exception cref="ArgumentException">A value is out of range.</exception>
    public void Validate()
    {
        Model.Validate();
        if (Epochs < 1 || BatchSize < 1 || EvalBatchSize < 1)
        {
            throw new ArgumentException($"--epochs and --batch-size must be at least 1 (got {Epochs} and {BatchSize}).");
        }

        if (!(LearningRate > 0))
        {
            throw new ArgumentException($"--lr must be positive; got {LearningRate}.");
        }

        if (!(LrDecay > 0 && LrDecay <= 1))
        {
            throw new ArgumentException($"--lr-decay must be in (0, 1]; got {LrDecay}.");
        }

        if (!(LabelSmoothing >= 0 && LabelSmoothing < 1))
        {
            throw new ArgumentException($"--label-smoothing must be in [0, 1); got {LabelSmoothing}.");
        }

        if (TrainLimit is < 1 || TestLimit is < 1)
        {
            throw new ArgumentException("--train-limit and --test-limit must be at least 1.");
        }
    }

    /// <summary>Describes how this run differs from <paramref name="saved"/> in what a resume must keep, or null.</summary>
    /// <param name="saved">The checkpoint's options.</param>
    /// <returns>The differences, or null when the run can continue.</returns>
    public string? ResumeConflict(TrainingOptions saved)
    {
        ArgumentNullException.ThrowIfNull(saved);
        var differences = new List<string>();
        void Check<T>(string name, T mine, T theirs)
        {
            if (!EqualityComparer<T>.Default.Equals(mine, theirs))
            {
                differences.Add($"{name} {theirs} (checkpoint) vs {mine} (now)");
            }
        }

        Check("model", Model.Description, saved.Model.Description);
        Check("dataset", Dataset, saved.Dataset);
        Check("batch size", BatchSize, saved.BatchSize);
        Check("learning rate", LearningRate, saved.LearningRate);
        Check("learning-rate decay", LrDecay, saved.LrDecay);
        Check("label smoothing", LabelSmoothing, saved.LabelSmoothing);
        Check("seed", Seed, saved.Seed);
        Check("train limit", TrainLimit, saved.TrainLimit);
        Check("test limit", TestLimit, saved.TestLimit);
        return differences.Count == 0 ? null : string.Join("; ", differences);
    }
}
