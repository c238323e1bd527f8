using System.Globalization;
using NeuralOde.Demo.Data;
using NeuralOde.Demo.Training;
using Spectre.Console;

namespace NeuralOde.Demo.Cli;

/// <summary>
/// Progress for the long loops: Spectre.Console progress bars (description showing loss, accuracy and NFE) when the
/// console is an interactive terminal, otherwise one plain line per epoch (and per downloaded file).
/// </summary>
internal static class ProgressDisplay
{
    /// <summary>Gets whether a console shows live progress bars.</summary>
    /// <param name="console">The console.</param>
    /// <returns>Whether it is an interactive terminal.</returns>
    public static bool IsLive(IAnsiConsole console) =>
        console.Profile.Capabilities.Interactive && console.Profile.Capabilities.Ansi;

    /// <summary>Runs a training with progress.</summary>
    /// <param name="console">The console.</param>
    /// <param name="label">The model's label, e.g. <c>ode</c>.</param>
    /// <param name="work">The training, given the progress receiver.</param>
    /// <returns>The training's result.</returns>
    public static TrainingResult Train(IAnsiConsole console, string label, Func<ITrainingProgress, TrainingResult> work)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(work);
        if (!IsLive(console))
        {
            return work(new PlainTrainingProgress(console, label));
        }

        return Bars(console).Start(context => work(new LiveTrainingProgress(context, label)));
    }

    /// <summary>Runs a download with progress.</summary>
    /// <param name="console">The console.</param>
    /// <param name="work">The download, given the progress callback.</param>
    /// <typeparam name="T">The result.</typeparam>
    /// <returns>The download's result.</returns>
    public static T Download<T>(IAnsiConsole console, Func<DownloadProgress, T> work)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(work);
        if (!IsLive(console))
        {
            var announced = new HashSet<string>();
            return work((file, done, total) =>
            {
                if (done == 0 && announced.Add(file))
                {
                    console.WriteLine($"downloading {file}" + (total is { } t ? $" ({t:N0} bytes)" : ""));
                }
            });
        }

        return console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(), new TransferSpeedColumn())
            .Start(context =>
            {
                var tasks = new Dictionary<string, ProgressTask>();
                return work((file, done, total) =>
                {
                    if (!tasks.TryGetValue(file, out var task))
                    {
                        task = context.AddTask(Markup.Escape("download " + file), maxValue: total ?? 1);
                        tasks[file] = task;
                    }

                    if (total is null)
                    {
                        task.IsIndeterminate = true;
                    }
                    else
                    {
                        task.Value = done;
                    }
                });
            });
    }

    /// <summary>Formats an epoch's metrics on one line.</summary>
    /// <param name="label">The model's label.</param>
    /// <param name="epochs">The last epoch.</param>
    /// <param name="m">The metrics.</param>
    /// <returns>The line.</returns>
    public static string EpochLine(string label, int epochs, EpochMetrics m)
    {
        ArgumentNullException.ThrowIfNull(m);
        return string.Create(
            CultureInfo.InvariantCulture,
            $"{label} epoch {m.Epoch}/{epochs}: train loss {m.TrainLoss:0.0000}, train acc {100 * m.TrainAccuracy:0.00}%, test loss {m.TestLoss:0.0000}, " +
            $"test acc {100 * m.TestAccuracy:0.00}%, NFE fwd {m.ForwardNfe:0.0} bwd {m.BackwardNfe:0.0} (test fwd {m.TestForwardNfe:0.0}), {m.EpochSeconds:0.0} s + eval {m.EvalSeconds:0.0} s");
    }

    private static Progress Bars(IAnsiConsole console) =>
        console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn());

    private sealed class PlainTrainingProgress(IAnsiConsole console, string label) : ITrainingProgress
    {
        private int epochs;

        public void EpochStarted(int epoch, int epochs, int batches) => this.epochs = epochs;

        public void BatchDone(int batch, double loss, double accuracy, double nfe)
        {
        }

        public void Evaluating()
        {
        }

        public void EpochDone(EpochMetrics metrics) => console.WriteLine(EpochLine(label, epochs, metrics));
    }

    private sealed class LiveTrainingProgress(ProgressContext context, string label) : ITrainingProgress
    {
        private ProgressTask? task;
        private int epoch;
        private int epochs;

        public void EpochStarted(int epoch, int epochs, int batches)
        {
            this.epoch = epoch;
            this.epochs = epochs;
            task = context.AddTask(Markup.Escape($"{label} epoch {epoch}/{epochs}"), maxValue: batches);
        }

        public void BatchDone(int batch, double loss, double accuracy, double nfe)
        {
            if (task is null)
            {
                return;
            }

            task.Value = batch;
            task.Description = Markup.Escape(string.Create(
                CultureInfo.InvariantCulture,
                $"{label} epoch {epoch}/{epochs}  loss {loss:0.0000}  acc {100 * accuracy:0.0}%  NFE {nfe:0.0}"));
        }

        public void Evaluating()
        {
            if (task is not null)
            {
                task.Description = Markup.Escape($"{label} epoch {epoch}/{epochs}  evaluating on the test set…");
            }
        }

        public void EpochDone(EpochMetrics metrics)
        {
            if (task is not null)
            {
                task.Description = Markup.Escape(string.Create(
                    CultureInfo.InvariantCulture,
                    $"{label} epoch {epoch}/{epochs}  loss {metrics.TrainLoss:0.0000}  test acc {100 * metrics.TestAccuracy:0.00}%  NFE {metrics.ForwardNfe:0.0}"));
                task.StopTask();
            }
        }
    }
}
