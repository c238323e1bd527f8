using System.Diagnostics;
using NeuralOde.Demo.Data;
using NeuralOde.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace NeuralOde.Demo.Training;

/// <summary>Receives a training run's progress (a progress bar on a terminal, one line per epoch otherwise).</summary>
internal interface ITrainingProgress
{
    /// <summary>An epoch starts.</summary>
    /// <param name="epoch">The epoch (1-based).</param>
    /// <param name="epochs">The last epoch.</param>
    /// <param name="batches">Its number of batches.</param>
    void EpochStarted(int epoch, int epochs, int batches);

    /// <summary>A training batch is done.</summary>
    /// <param name="batch">Batches done in this epoch.</param>
    /// <param name="loss">The mean loss so far in this epoch.</param>
    /// <param name="accuracy">The training accuracy so far in this epoch.</param>
    /// <param name="nfe">The mean forward NFE per batch so far.</param>
    void BatchDone(int batch, double loss, double accuracy, double nfe);

    /// <summary>The epoch's evaluation on the test set starts.</summary>
    void Evaluating();

    /// <summary>The epoch is done and checkpointed.</summary>
    /// <param name="metrics">Its metrics.</param>
    void EpochDone(EpochMetrics metrics);
}

/// <summary>The result of a training run.</summary>
/// <param name="Folder">The run's folder.</param>
/// <param name="History">Every epoch's metrics (including those done before a resume).</param>
/// <param name="ResumedFrom">The epochs that were already done when the run started.</param>
/// <param name="Interrupted">Whether the run was cancelled before its last epoch.</param>
internal sealed record TrainingResult(string Folder, IReadOnlyList<EpochMetrics> History, int ResumedFrom, bool Interrupted);

/// <summary>
/// Trains a classifier: Adam on cross-entropy, a seeded shuffle per epoch, one dispose scope per batch, evaluation
/// on the test set after every epoch, metrics and a full checkpoint written atomically after every epoch (so a
/// killed run loses at most the epoch in progress, and <c>--resume</c> continues it with the same results).
/// </summary>
internal static class Trainer
{
    /// <summary>How the random streams are derived (stored in checkpoints).</summary>
    public const string RngDescription =
        "torch.manual_seed(seed) before building the model; epoch e shuffles with System.Random(seed * 1000003 + e) (Fisher–Yates); no other randomness";

    /// <summary>Trains (or continues training) into <paramref name="folder"/>.</summary>
    /// <param name="options">The run's options.</param>
    /// <param name="data">The data set, already on <paramref name="device"/>.</param>
    /// <param name="folder">The run's folder.</param>
    /// <param name="resume">Whether to continue from the folder's checkpoint (a fresh start when there is none).</param>
    /// <param name="device">The device.</param>
    /// <param name="progress">Receives progress.</param>
    /// <param name="cancellationToken">Stops between batches; the epoch in progress is lost.</param>
    /// <returns>The result.</returns>
    public static TrainingResult Run(TrainingOptions options, Dataset data, string folder, bool resume, Device device, ITrainingProgress progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(progress);
        options.Validate();
        Directory.CreateDirectory(folder);

        var saved = RunFolder.ReadState(folder);
        if (saved is not null && !resume)
        {
            throw new ArgumentException($"{folder} already holds a training run (epoch {saved.EpochsDone} of {saved.Options.Epochs}): add --resume to continue it, or choose another --out.");
        }

        if (saved?.Options.ResumeConflict(options) is { } conflict)
        {
            throw new ArgumentException($"Cannot resume {folder}: the options differ from the checkpoint's ({conflict}).");
        }

        torch.manual_seed(options.Seed);
        using var model = options.Model.Build();
        model.to(device);
        using var optimizer = optim.Adam(model.parameters(), options.LearningRate);
        var history = new List<EpochMetrics>();
        var start = 0;
        if (saved is not null)
        {
            var state = RunFolder.Load(folder, model, optimizer);
            history.AddRange(state.History);
            start = state.EpochsDone;
        }

        var schedule = Schedule(optimizer, options, start);
        RunFolder.SaveSpec(folder, options.Model);
        var ode = model as OdeClassifier;
        var batches = (data.TrainCount + options.BatchSize - 1) / options.BatchSize;
        for (var epoch = start + 1; epoch <= options.Epochs; epoch++)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                return new TrainingResult(folder, history, start, true);
            }

            progress.EpochStarted(epoch, options.Epochs, batches);
            var clock = Stopwatch.StartNew();
            var order = Shuffle(data.TrainCount, TrainingOptions.ShuffleSeed(options.Seed, epoch));
            using var permutation = tensor(order, ScalarType.Int64, device);
            model.train();
            double lossSum = 0, forwardNfe = 0, backwardNfe = 0;
            long correct = 0, seen = 0;
            for (var b = 0; b < batches; b++)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    return new TrainingResult(folder, history, start, true);
                }

                using (var scope = NewDisposeScope())
                {
                    var count = Math.Min(options.BatchSize, data.TrainCount - (b * options.BatchSize));
                    var index = permutation.narrow(0, b * options.BatchSize, count);
                    var x = data.TrainImages.index_select(0, index);
                    var y = data.TrainLabels.index_select(0, index);
                    optimizer.zero_grad();
                    var logits = model.call(x);
                    var loss = nn.functional.cross_entropy(logits, y, label_smoothing: options.LabelSmoothing);
                    loss.backward();
                    optimizer.step();
                    lossSum += loss.item<float>() * count;
                    correct += logits.argmax(1).eq(y).sum().item<long>();
                    seen += count;
                    forwardNfe += ode?.Block.LastForward.Calls ?? 1;
                    backwardNfe += ode?.Block.LastBackward.Calls ?? 0;
                }

                progress.BatchDone(b + 1, lossSum / seen, (double)correct / seen, forwardNfe / (b + 1));
            }

            var trainSeconds = clock.Elapsed.TotalSeconds;
            progress.Evaluating();
            clock.Restart();
            var (testLoss, testAccuracy, testNfe) = Evaluate(model, data.TestImages, data.TestLabels, options.EvalBatchSize);
            var metrics = new EpochMetrics
            {
                Epoch = epoch,
                TrainLoss = lossSum / seen,
                TrainAccuracy = (double)correct / seen,
                TestLoss = testLoss,
                TestAccuracy = testAccuracy,
                ForwardNfe = forwardNfe / batches,
                BackwardNfe = backwardNfe / batches,
                TestForwardNfe = testNfe,
                EpochSeconds = trainSeconds,
                EvalSeconds = clock.Elapsed.TotalSeconds,
            };
            history.Add(metrics);
            RunFolder.Save(folder, new CheckpointState(RunFolder.Format, options, epoch, history, RngDescription), model, optimizer);
            MetricsFiles.Write(folder, options, history);
            progress.EpochDone(metrics);
            schedule.step();
        }

        if (saved is not null && start >= options.Epochs)
        {
            MetricsFiles.Write(folder, options, history);
        }

        return new TrainingResult(folder, history, start, false);
    }

    /// <summary>
    /// Sets up the learning-rate decay with TorchSharp's scheduler: <c>LambdaLR</c>, so that epoch <c>e</c> (from 1)
    /// trains at exactly <see cref="TrainingOptions.LearningRateAt"/>(e) = lr × decay^(e−1), computed from the base rate
    /// (not multiplied epoch after epoch), whether the run started fresh or resumed from a checkpoint.
    /// </summary>
    /// <param name="optimizer">The optimizer; its groups' rates are reset to <see cref="TrainingOptions.LearningRate"/>
    /// (a loaded checkpoint carries the last epoch's rate).</param>
    /// <param name="options">The run's options.</param>
    /// <param name="epochsDone">The epochs already trained: the schedule starts at epoch <paramref name="epochsDone"/> + 1.</param>
    /// <returns>The scheduler; step it once after every epoch.</returns>
    internal static optim.lr_scheduler.LRScheduler Schedule(optim.Optimizer optimizer, TrainingOptions options, int epochsDone)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(options);
        foreach (var group in optimizer.ParamGroups)
        {
            group.LearningRate = options.LearningRate;
            group.InitialLearningRate = options.LearningRate;
        }

        var decay = options.LrDecay;
        var scheduler = optim.lr_scheduler.LambdaLR(optimizer, e => Math.Pow(decay, e));
        if (epochsDone > 0)
        {
            scheduler.step(epoch: epochsDone);
        }

        return scheduler;
    }

    /// <summary>Computes the loss, accuracy and mean forward NFE of a model on a data set, without gradients.</summary>
    /// <param name="model">The model.</param>
    /// <param name="images">The images, <c>[N, ...]</c>.</param>
    /// <param name="labels">The labels, <c>[N]</c>.</param>
    /// <param name="batchSize">The batch size.</param>
    /// <returns>Mean loss, accuracy and mean forward NFE per batch.</returns>
    public static (double Loss, double Accuracy, double Nfe) Evaluate(nn.Module<Tensor, Tensor> model, Tensor images, Tensor labels, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        model.eval();
        var n = (int)labels.shape[0];
        double lossSum = 0, nfe = 0;
        long correct = 0;
        var batches = 0;
        using var noGrad = torch.no_grad();
        for (var start = 0; start < n; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var count = Math.Min(batchSize, n - start);
            var x = images.narrow(0, start, count);
            var y = labels.narrow(0, start, count);
            var logits = model.call(x);
            lossSum += nn.functional.cross_entropy(logits, y, reduction: nn.Reduction.Sum).item<float>();
            correct += logits.argmax(1).eq(y).sum().item<long>();
            nfe += (model as OdeClassifier)?.Block.LastForward.Calls ?? 1;
            batches++;
        }

        model.train();
        return (lossSum / n, (double)correct / n, nfe / batches);
    }

    /// <summary>A Fisher–Yates permutation of 0..n-1 from a seeded <see cref="System.Random"/>.</summary>
    /// <param name="n">The number of items.</param>
    /// <param name="seed">The seed.</param>
    /// <returns>The permutation.</returns>
    public static long[] Shuffle(int n, int seed)
    {
        var random = new Random(seed);
        var order = new long[n];
        for (var i = 0; i < n; i++)
        {
            order[i] = i;
        }

        for (var i = n - 1; i > 0; i--)
        {
            var j = random.Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }

        return order;
    }
}
