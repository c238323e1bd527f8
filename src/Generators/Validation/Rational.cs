using System;
using System.Globalization;
using System.Numerics;

namespace NeuralOde.Generators.Validation;

/// <summary>
/// An exact fraction p/q in lowest terms with q &gt; 0, for checking tableaux exactly and printing their
/// coefficients as the paper does (<c>-7200/2197</c>).
/// </summary>
internal readonly struct Rational : IEquatable<Rational>, IComparable<Rational>
{
    private readonly BigInteger _denominator;

    private Rational(BigInteger numerator, BigInteger denominator)
    {
        Numerator = numerator;
        _denominator = denominator;
    }

    /// <summary>Gets zero.</summary>
    public static Rational Zero => new(BigInteger.Zero, BigInteger.One);

    /// <summary>Gets one.</summary>
    public static Rational One => new(BigInteger.One, BigInteger.One);

    /// <summary>Gets the numerator; it carries the sign.</summary>
    public BigInteger Numerator { get; }

    /// <summary>Gets the denominator, always positive (one for <c>default</c>).</summary>
    public BigInteger Denominator => _denominator.IsZero ? BigInteger.One : _denominator;

    /// <summary>Gets whether the value is zero.</summary>
    public bool IsZero => Numerator.IsZero;

    /// <summary>Gets whether the value is an integer.</summary>
    public bool IsInteger => Denominator.IsOne;

    /// <summary>Gets the sign: -1, 0 or 1.</summary>
    public int Sign => Numerator.Sign;

    /// <summary>Creates an integer.</summary>
    /// <param name="value">The value.</param>
    /// <returns>The fraction value/1.</returns>
    public static Rational FromInteger(BigInteger value) => new(value, BigInteger.One);

    /// <summary>Creates p/q in lowest terms.</summary>
    /// <param name="numerator">p.</param>
    /// <param name="denominator">q, nonzero.</param>
    /// <returns>The fraction.</returns>
    /// <exception cref="DivideByZeroException"><paramref name="denominator"/> is zero.</exception>
    public static Rational Create(BigInteger numerator, BigInteger denominator)
    {
        if (denominator.IsZero)
        {
            throw new DivideByZeroException();
        }

        if (denominator.Sign < 0)
        {
            numerator = -numerator;
            denominator = -denominator;
        }

        var gcd = BigInteger.GreatestCommonDivisor(numerator, denominator);
        return gcd.IsOne || gcd.IsZero
            ? new Rational(numerator, denominator)
            : new Rational(numerator / gcd, denominator / gcd);
    }

    /// <summary>Adds two fractions.</summary>
    /// <param name="left">The first term.</param>
    /// <param name="right">The second term.</param>
    /// <returns>The sum.</returns>
    public static Rational operator +(Rational left, Rational right) =>
        left.Denominator == right.Denominator
            ? Create(left.Numerator + right.Numerator, left.Denominator)
            : Create((left.Numerator * right.Denominator) + (right.Numerator * left.Denominator), left.Denominator * right.Denominator);

    /// <summary>Subtracts two fractions.</summary>
    /// <param name="left">The minuend.</param>
    /// <param name="right">The subtrahend.</param>
    /// <returns>The difference.</returns>
    public static Rational operator -(Rational left, Rational right) => left + (-right);

    /// <summary>Negates a fraction.</summary>
    /// <param name="value">The fraction.</param>
    /// <returns>Its negation.</returns>
    public static Rational operator -(Rational value) => new(-value.Numerator, value.Denominator);

    /// <summary>Multiplies two fractions.</summary>
    /// <param name="left">The first factor.</param>
    /// <param name="right">The second factor.</param>
    /// <returns>The product.</returns>
    public static Rational operator *(Rational left, Rational right) =>
        left.IsZero || right.IsZero
            ? Zero
            : Create(left.Numerator * right.Numerator, left.Denominator * right.Denominator);

    /// <summary>Compares two fractions for equality.</summary>
    /// <param name="left">The first fraction.</param>
    /// <param name="right">The second fraction.</param>
    /// <returns>Whether they are equal.</returns>
    public static bool operator ==(Rational left, Rational right) => left.Equals(right);

    /// <summary>Compares two fractions for inequality.</summary>
    /// <param name="left">The first fraction.</param>
    /// <param name="right">The second fraction.</param>
    /// <returns>Whether they differ.</returns>
    public static bool operator !=(Rational left, Rational right) => !left.Equals(right);

    /// <summary>Divides two fractions.</summary>
    /// <param name="divisor">The divisor.</param>
    /// <param name="quotient">The quotient, when <paramref name="divisor"/> is nonzero.</param>
    /// <returns>Whether the division was defined.</returns>
    public bool TryDivide(Rational divisor, out Rational quotient)
    {
        if (divisor.IsZero)
        {
            quotient = Zero;
            return false;
        }

        quotient = Create(Numerator * divisor.Denominator, Denominator * divisor.Numerator);
        return true;
    }

    /// <summary>Returns the absolute value.</summary>
    /// <returns>|this|.</returns>
    public Rational Abs() => Sign < 0 ? -this : this;

    /// <summary>
    /// Converts to the nearest double (ties to even), so that an exact coefficient is emitted as the double
    /// closest to the fraction whatever expression declared it.
    /// </summary>
    /// <returns>The nearest double; ±infinity beyond the double range.</returns>
    public double ToDouble()
    {
        if (Numerator.IsZero)
        {
            return 0.0;
        }

        var negative = Numerator.Sign < 0;
        var numerator = BigInteger.Abs(Numerator);
        var denominator = Denominator;

        // Scale so that the integer quotient has 55 to 57 bits: 53 kept, the rest decide the rounding.
        var shift = 56 - (BitLength(numerator) - BitLength(denominator));
        var quotient = BigInteger.DivRem(
            shift >= 0 ? numerator << shift : numerator,
            shift >= 0 ? denominator : denominator << -shift,
            out var remainder);
        var extra = BitLength(quotient) - 53;
        var mantissa = quotient >> extra;
        var dropped = quotient - (mantissa << extra);
        var half = BigInteger.One << (extra - 1);
        if (dropped > half || (dropped == half && (!remainder.IsZero || !mantissa.IsEven)))
        {
            mantissa += 1;
        }

        var exponent = extra - shift;
        if (exponent + 52 > 1023)
        {
            return negative ? double.NegativeInfinity : double.PositiveInfinity;
        }

        if (exponent + 52 < -1022)
        {
            // Below the normal range the spacing is fixed at 2⁻¹⁰⁷⁴: round |p/q|·2¹⁰⁷⁴ to an integer (ties to even),
            // which is below 2⁵³, so that the product with double.Epsilon is exact (a subnormal, zero or the least
            // normal number).
            var units = BigInteger.DivRem(numerator << 1074, denominator, out var rest);
            var twice = (rest << 1).CompareTo(denominator);
            if (twice > 0 || (twice == 0 && !units.IsEven))
            {
                units += 1;
            }

            var subnormal = (double)units * double.Epsilon;
            return negative ? -subnormal : subnormal;
        }

        // Two factors, so that neither power of two leaves the normal range on its own.
        var value = (double)mantissa * Math.Pow(2, exponent / 2) * Math.Pow(2, exponent - (exponent / 2));
        return negative ? -value : value;
    }

    /// <summary>Formats as <c>p/q</c>, or <c>p</c> for an integer (invariant culture).</summary>
    /// <returns>The fraction as text.</returns>
    public override string ToString() =>
        IsInteger
            ? Numerator.ToString(CultureInfo.InvariantCulture)
            : Numerator.ToString(CultureInfo.InvariantCulture) + "/" + Denominator.ToString(CultureInfo.InvariantCulture);

    /// <inheritdoc/>
    public bool Equals(Rational other) => Numerator == other.Numerator && Denominator == other.Denominator;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Rational other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => Helpers.HashCodeCombiner.Combine(Numerator.GetHashCode(), Denominator.GetHashCode());

    /// <inheritdoc/>
    public int CompareTo(Rational other) =>
        (Numerator * other.Denominator).CompareTo(other.Numerator * Denominator);

    private static int BitLength(BigInteger value)
    {
        // netstandard2.0 has no GetBitLength; bytes give the length to within eight bits, then refine.
        var bytes = value.ToByteArray();
        var length = (bytes.Length - 1) * 8;
        var top = bytes[bytes.Length - 1];
        while (top != 0)
        {
            length++;
            top >>= 1;
        }

        return length;
    }
}
