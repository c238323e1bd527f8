namespace NeuralOde.Solving.Control;

/// <summary>What the host initial-step estimate reads of each row at its start (<c>[W]</c> each).</summary>
/// <param name="T">Each row's time.</param>
/// <param name="T0">Each row's start.</param>
/// <param name="T1">Each row's end.</param>
/// <param name="Direction">Each row's direction, ±1.</param>
/// <param name="Rtol">Each row's relative tolerance.</param>
/// <param name="Atol">Each row's absolute tolerance.</param>
/// <param name="Running">Which rows are running.</param>
internal readonly ref struct InitialStepRows(
    ReadOnlySpan<double> T,
    ReadOnlySpan<double> T0,
    ReadOnlySpan<double> T1,
    ReadOnlySpan<double> Direction,
    ReadOnlySpan<double> Rtol,
    ReadOnlySpan<double> Atol,
    ReadOnlySpan<bool> Running)
{
    /// <summary>Gets each row's time.</summary>
    public ReadOnlySpan<double> T { get; } = T;

    /// <summary>Gets each row's start.</summary>
    public ReadOnlySpan<double> T0 { get; } = T0;

    /// <summary>Gets each row's end.</summary>
    public ReadOnlySpan<double> T1 { get; } = T1;

    /// <summary>Gets each row's direction, ±1.</summary>
    public ReadOnlySpan<double> Direction { get; } = Direction;

    /// <summary>Gets each row's relative tolerance.</summary>
    public ReadOnlySpan<double> Rtol { get; } = Rtol;

    /// <summary>Gets each row's absolute tolerance.</summary>
    public ReadOnlySpan<double> Atol { get; } = Atol;

    /// <summary>Gets which rows are running.</summary>
    public ReadOnlySpan<bool> Running { get; } = Running;
}
