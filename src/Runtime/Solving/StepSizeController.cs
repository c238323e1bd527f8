namespace NeuralOde.Solving;

/// <summary>
/// A per-row PID step-size controller (Söderlind; coefficients in diffrax's convention). The next step of a row
/// is <c>h·clamp(safety · ε₀^(−β₁/k) · ε₁^(−β₂/k) · ε₂^(−β₃/k), factorMin, factorMax)</c>, where εₙ are the row's
/// last error norms, k = min(order, embedded order) + 1, β₁ = P + I + D, β₂ = −(P + 2D), β₃ = D. A rejected step
/// never grows.
/// </summary>
/// <remarks>The defaults are diffrax's: integral-only control, safety 0.9, factor in [0.2, 10].</remarks>
public sealed record StepSizeController
{
    /// <summary>Gets the integral (I) controller with the default safety and factor bounds.</summary>
    public static StepSizeController Integral { get; } = new();

    /// <summary>Gets the PI controller Hairer and Wanner recommend: β₁ = 0.7/k, β₂ = −0.4/k (P = 0.4, I = 0.3).</summary>
    /// <remarks>Smoother step sequences than integral control on non-stiff problems.</remarks>
    public static StepSizeController PI { get; } = new() { PCoefficient = 0.4, ICoefficient = 0.3 };

    /// <summary>Gets the proportional coefficient P (0 for integral control).</summary>
    public double PCoefficient { get; init; }

    /// <summary>Gets the integral coefficient I (1 for integral control).</summary>
    public double ICoefficient { get; init; } = 1.0;

    /// <summary>Gets the derivative coefficient D.</summary>
    public double DCoefficient { get; init; }

    /// <summary>Gets the safety factor applied to every proposal, in (0, 1].</summary>
    public double Safety { get; init; } = 0.9;

    /// <summary>Gets the smallest factor by which a step may shrink, in (0, 1).</summary>
    public double FactorMin { get; init; } = 0.2;

    /// <summary>Gets the largest factor by which a step may grow, greater than 1.</summary>
    public double FactorMax { get; init; } = 10.0;

    internal void Validate()
    {
        static bool Finite(double x) => double.IsFinite(x);
        if (!Finite(PCoefficient) || !Finite(ICoefficient) || !Finite(DCoefficient))
        {
            throw new ArgumentException($"Controller.PCoefficient, ICoefficient and DCoefficient must be finite; got P = {PCoefficient}, I = {ICoefficient}, D = {DCoefficient}.", "options");
        }

        if (!(Safety > 0 && Safety <= 1))
        {
            throw new ArgumentException($"Controller.Safety must be in (0, 1]; got {Safety}.", "options");
        }

        if (!(FactorMin > 0 && FactorMin < 1))
        {
            throw new ArgumentException($"Controller.FactorMin must be in (0, 1); got {FactorMin}.", "options");
        }

        if (!(FactorMax > 1 && double.IsFinite(FactorMax)))
        {
            throw new ArgumentException($"Controller.FactorMax must be finite and greater than 1; got {FactorMax}.", "options");
        }

        if (PCoefficient + ICoefficient + DCoefficient <= 0)
        {
            throw new ArgumentException($"Controller.PCoefficient + ICoefficient + DCoefficient must be positive, or steps would never adapt; got {PCoefficient + ICoefficient + DCoefficient}.", "options");
        }
    }
}
