namespace NeuralOde.Solving;

/// <summary>Which zero crossings of an event function stop a row.</summary>
public enum EventDirection
{
    /// <summary>Either direction: g changes sign.</summary>
    Either,

    /// <summary>g goes from negative to zero or positive.</summary>
    Rising,

    /// <summary>g goes from positive to zero or negative.</summary>
    Falling,
}
