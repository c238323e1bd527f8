namespace NeuralOde.Solving;

/// <summary>Thrown by a solve with <see cref="SolverOptions.ThrowOnFailure"/> when rows did not succeed.</summary>
public sealed class OdeSolverException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="failures">The failing rows and their statuses.</param>
    public OdeSolverException(IReadOnlyList<(int Row, SolverStatus Status)> failures)
        : base(Describe(failures))
    {
        Failures = failures;
    }

    /// <summary>Gets the failing rows with their statuses, in row order.</summary>
    public IReadOnlyList<(int Row, SolverStatus Status)> Failures { get; }

    private static string Describe(IReadOnlyList<(int Row, SolverStatus Status)> failures)
    {
        const int Shown = 10;
        var parts = failures.Take(Shown).Select(static f => $"row {f.Row}: {f.Status}");
        var more = failures.Count > Shown ? $" and {failures.Count - Shown} more" : string.Empty;
        return $"The ODE solve failed for {failures.Count} row(s): {string.Join(", ", parts)}{more}.";
    }
}
