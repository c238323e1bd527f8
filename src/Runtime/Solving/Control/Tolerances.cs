namespace NeuralOde.Solving.Control;

/// <summary>The tolerances of the rows of a work set: one pair for all rows, or one per row.</summary>
/// <param name="RelativeAll">The relative tolerance of every row (when <paramref name="RelativeRows"/> is null).</param>
/// <param name="AbsoluteAll">The absolute tolerance of every row (when <paramref name="AbsoluteRows"/> is null).</param>
/// <param name="RelativeRows">Each row's relative tolerance, or null.</param>
/// <param name="AbsoluteRows">Each row's absolute tolerance, or null.</param>
/// <param name="PureRelative">Whether some absolute tolerance is 0, where 0/0 (an exactly zero state and error) counts as 0.</param>
internal readonly record struct Tolerances(double RelativeAll, double AbsoluteAll, double[]? RelativeRows, double[]? AbsoluteRows, bool PureRelative)
{
    /// <summary>The relative tolerance of the work set's row <paramref name="row"/>.</summary>
    /// <param name="row">A position in the work set.</param>
    /// <returns>The tolerance.</returns>
    public double Relative(int row) => RelativeRows is { } rows ? rows[row] : RelativeAll;

    /// <summary>The absolute tolerance of the work set's row <paramref name="row"/>.</summary>
    /// <param name="row">A position in the work set.</param>
    /// <returns>The tolerance.</returns>
    public double Absolute(int row) => AbsoluteRows is { } rows ? rows[row] : AbsoluteAll;
}
