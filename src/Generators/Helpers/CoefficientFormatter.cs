using System;
using System.Globalization;
using System.Text;
using NeuralOde.Generators.Validation;

namespace NeuralOde.Generators.Helpers;

/// <summary>Formats numbers for generated code, comments and diagnostic messages, always invariantly.</summary>
internal static class CoefficientFormatter
{
    private const int MaxCommentLength = 100;
    private const int MaxFractionDigits = 15;

    /// <summary>
    /// Formats a coefficient as a C# double literal in round-trip form (<c>0.25</c>, <c>-0.0027777777777777779</c>,
    /// <c>1E-20</c>), so that the emitted constant is bit-for-bit the parsed value.
    /// </summary>
    /// <param name="value">A finite value.</param>
    /// <returns>The literal.</returns>
    public static string Literal(double value) =>
        value == 0 ? "0" : value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Makes text safe for a one-line <c>//</c> comment: whitespace runs become one space, long text is cut.</summary>
    /// <param name="text">Source text, possibly spanning lines.</param>
    /// <returns>One line.</returns>
    public static string OneLine(string text)
    {
        var builder = new StringBuilder(Math.Min(text.Length, MaxCommentLength + 1));
        var pendingSpace = false;
        foreach (var ch in text)
        {
            if (char.IsWhiteSpace(ch) || char.IsControl(ch))
            {
                pendingSpace = builder.Length > 0;
                continue;
            }

            if (pendingSpace)
            {
                builder.Append(' ');
                pendingSpace = false;
            }

            builder.Append(ch);
            if (builder.Length > MaxCommentLength)
            {
                builder.Length = MaxCommentLength;
                return builder.Append('…').ToString();
            }
        }

        return builder.ToString();
    }

    /// <summary>Formats a value for a message: the fraction when exact and short, else ten significant digits.</summary>
    /// <param name="exact">The exact value, or null.</param>
    /// <param name="value">The double value.</param>
    /// <returns>The text.</returns>
    public static string ForMessage(Rational? exact, double value) =>
        exact is { } fraction
        && fraction.Numerator.ToString(CultureInfo.InvariantCulture).TrimStart('-').Length <= MaxFractionDigits
        && fraction.Denominator.ToString(CultureInfo.InvariantCulture).Length <= MaxFractionDigits
            ? fraction.ToString()
            : (exact?.ToDouble() ?? value).ToString("G10", CultureInfo.InvariantCulture);

    /// <summary>Formats a residual in short scientific form, for example <c>1.0e-3</c>.</summary>
    /// <param name="residual">The absolute residual.</param>
    /// <returns>The text.</returns>
    public static string Residual(double residual) =>
        double.IsNaN(residual) || double.IsInfinity(residual)
            ? residual.ToString(CultureInfo.InvariantCulture)
            : residual.ToString("0.0e0", CultureInfo.InvariantCulture);
}
