namespace NeuralOde.Solving.Control;

/// <summary>What one row's step attempt did, as the step-size controller sees it. Times and steps are float64.</summary>
/// <param name="ErrorNorm">The row's error norm (the batch's under a shared step size).</param>
/// <param name="Finite">Whether the step counts as finite for control (the batch's under a shared step size).</param>
/// <param name="RowFinite">Whether this row's own new state and error are finite.</param>
/// <param name="Accept">Whether the row accepted the step.</param>
/// <param name="Running">Whether the row is still running after the step.</param>
/// <param name="Attempted">The signed step the row attempted (clipped to its end).</param>
/// <param name="Planned">The signed step the controller had planned.</param>
/// <param name="TNew">The row's time after the step.</param>
/// <param name="T1">The row's end time.</param>
/// <param name="Direction">The row's direction, ±1.</param>
/// <param name="Prev1">The error norm of the row's last accepted step.</param>
/// <param name="Prev2">The error norm of the accepted step before that.</param>
internal readonly record struct RowOutcome(
    double ErrorNorm,
    bool Finite,
    bool RowFinite,
    bool Accept,
    bool Running,
    double Attempted,
    double Planned,
    double TNew,
    double T1,
    double Direction,
    double Prev1,
    double Prev2);
