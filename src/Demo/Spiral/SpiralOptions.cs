using NeuralOde.Modules;

namespace NeuralOde.Demo.Spiral;

/// <summary>How the spiral demo trains; the defaults are torchdiffeq's <c>examples/ode_demo.py</c> (except Adam for RMSprop).</summary>
internal sealed record SpiralOptions
{
    /// <summary>Gets the training iterations (ode_demo's <c>--niters</c>, 2000).</summary>
    public int Iterations { get; init; } = 2000;

    /// <summary>Gets the windows per batch (<c>--batch_size</c>, 20).</summary>
    public int BatchSize { get; init; } = 20;

    /// <summary>Gets the points per window (<c>--batch_time</c>, 10).</summary>
    public int BatchTime { get; init; } = 10;

    /// <summary>Gets the points of the true trajectory (<c>--data_size</c>, 1000).</summary>
    public int DataSize { get; init; } = 1000;

    /// <summary>Gets the end of the true trajectory's time span [0, 25].</summary>
    public double Duration { get; init; } = 25.0;

    /// <summary>Gets Adam's learning rate.</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>Gets how often the loss over the whole trajectory is evaluated (<c>--test_freq</c>, 20).</summary>
    public int TestEvery { get; init; } = 20;

    /// <summary>Gets whether every window has its own random sorted times (a <c>[B, T]</c> grid) instead of T consecutive points.</summary>
    public bool Irregular { get; init; }

    /// <summary>
    /// Gets whether every window takes its own steps (the solver's default) instead of one step size for the batch,
    /// chosen by the RMS error over all windows: ode_demo's torchdiffeq steps the batch that way, so the default here
    /// (false) solves the same problem the same way.
    /// </summary>
    public bool PerRowSteps { get; init; }

    /// <summary>Gets how gradients are computed.</summary>
    public GradientMode Gradient { get; init; } = GradientMode.Backprop;

    /// <summary>Gets the scheme (DOPRI5, as ode_demo).</summary>
    public string Scheme { get; init; } = "DOPRI5";

    /// <summary>Gets the relative tolerance (torchdiffeq's default, 1e-7).</summary>
    public double RelativeTolerance { get; init; } = 1e-7;

    /// <summary>Gets the absolute tolerance (torchdiffeq's default, 1e-9).</summary>
    public double AbsoluteTolerance { get; init; } = 1e-9;

    /// <summary>Gets the seed of the weights and of the windows.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Checks the options.</summary>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public void Validate()
    {
        static void AtLeast(int value, int min, string option)
        {
            if (value < min)
            {
                throw new ArgumentException($"{option} must be at least {min}; got {value}.");
            }
        }

        AtLeast(Iterations, 1, "--iterations");
        AtLeast(BatchSize, 1, "--batch-size");
        AtLeast(BatchTime, 2, "--batch-time");
        AtLeast(TestEvery, 1, "--test-every");
        var window = Irregular ? 2 * BatchTime : BatchTime;
        if (DataSize - window < BatchSize)
        {
            throw new ArgumentException($"--data-size {DataSize} leaves fewer than --batch-size {BatchSize} distinct windows of {window} points.");
        }

        if (!(LearningRate > 0) || !double.IsFinite(LearningRate))
        {
            throw new ArgumentException($"--lr must be positive and finite; got {LearningRate}.");
        }

        if (!(RelativeTolerance > 0) || !(AbsoluteTolerance > 0))
        {
            throw new ArgumentException($"--rtol and --atol must be positive; got {RelativeTolerance} and {AbsoluteTolerance}.");
        }
    }

    /// <summary>Describes the setup on one line.</summary>
    /// <returns>The description.</returns>
    public string Describe() => string.Create(
        System.Globalization.CultureInfo.InvariantCulture,
        $"{Iterations} iterations of {BatchSize} {(Irregular ? "irregular" : "regular")} {BatchTime}-point windows, Adam lr {LearningRate:G3}, " +
        $"{Scheme} rtol {RelativeTolerance:G3} atol {AbsoluteTolerance:G3} ({(PerRowSteps ? "per-window steps" : "one step size per batch")}), " +
        $"{Gradient.ToString().ToLowerInvariant()} gradients, seed {Seed}");
}
