using System.Numerics;
using CsCheck;
using NeuralOde.Generators.Validation;
using Xunit;

namespace NeuralOde.Generators.Tests;

/// <summary>
/// The exact fractions the generator checks tableaux with: lowest terms, sign on the numerator, field laws on random
/// operands (checked by cross-multiplication, never by the type's own normalisation), unbounded growth, ordering,
/// equality and hashing, formatting, and <see cref="Rational.ToDouble"/> as the nearest double (ties to even) across
/// the whole double range, subnormals and overflow included.
/// </summary>
public sealed class RationalTests
{
    private const long Iterations = 2_000;

    /// <summary>Small fractions p/q, q ≠ 0 of either sign, so that cross-multiplied checks stay cheap.</summary>
    private static readonly Gen<(long P, long Q)> SmallPair =
        Gen.Select(Gen.Long[-1_000_000, 1_000_000], Gen.Long[1, 1_000_000], Gen.Bool)
            .Select(static (p, q, negate) => (p, negate ? -q : q));

    private static readonly Gen<Rational> Small = SmallPair.Select(static pq => Rational.Create(pq.P, pq.Q));

    /// <summary>Integers of up to 480 bits, of either sign.</summary>
    private static readonly Gen<BigInteger> Big =
        Gen.Select(Gen.Byte.Array[1, 60], Gen.Bool)
            .Select(static (bytes, negative) => new BigInteger(bytes, isUnsigned: true) * (negative ? -1 : 1));

    [Theory]
    [InlineData(6, -4, -3, 2)]
    [InlineData(-10, -15, 2, 3)]
    [InlineData(0, -7, 0, 1)]
    [InlineData(0, 12, 0, 1)]
    [InlineData(-7, 1, -7, 1)]
    [InlineData(2197, 2197, 1, 1)]
    [InlineData(-7200, 2197, -7200, 2197)]
    public void Create_ReducesToLowestTerms_WithThePositiveDenominator(long p, long q, long numerator, long denominator)
    {
        var value = Rational.Create(p, q);

        Assert.Equal(numerator, value.Numerator);
        Assert.Equal(denominator, value.Denominator);
    }

    [Fact]
    public void Create_AnyPair_IsInLowestTermsAndEqualsTheFraction() =>
        Gen.Select(Big, Big.Where(static q => !q.IsZero)).Sample(static (p, q) =>
        {
            var value = Rational.Create(p, q);

            Assert.True(value.Denominator.Sign > 0, $"{p}/{q}: denominator {value.Denominator}");
            Assert.True(BigInteger.GreatestCommonDivisor(value.Numerator, value.Denominator).IsOne, $"{p}/{q} gave {value}");
            Assert.Equal(p * value.Denominator, value.Numerator * q);
            Assert.Equal(p.Sign * q.Sign, value.Sign);
        }, iter: Iterations);

    [Fact]
    public void Create_ZeroDenominator_Throws() =>
        Assert.Throws<DivideByZeroException>(static () => Rational.Create(1, 0));

    [Fact]
    public void TryDivide_ByZero_ReturnsFalse()
    {
        Assert.False(Rational.One.TryDivide(Rational.Zero, out var quotient));
        Assert.Equal(Rational.Zero, quotient);
        Assert.False(Rational.Zero.TryDivide(default, out _));
    }

    [Fact]
    public void Default_IsZero_InEveryRespect()
    {
        Rational value = default;

        Assert.True(value.IsZero);
        Assert.True(value.IsInteger);
        Assert.Equal(0, value.Sign);
        Assert.Equal(BigInteger.One, value.Denominator);
        Assert.Equal(Rational.Zero, value);
        Assert.Equal(Rational.Zero.GetHashCode(), value.GetHashCode());
        Assert.Equal(0, value.CompareTo(Rational.Zero));
        Assert.Equal("0", value.ToString());
        Assert.Equal(0.0, value.ToDouble());
        Assert.Equal(Rational.One, value + Rational.One);
        Assert.Equal(Rational.Zero, value * Rational.One);
    }

    [Theory]
    [InlineData(0, 1, "0")]
    [InlineData(5, 1, "5")]
    [InlineData(-5, 1, "-5")]
    [InlineData(3, -2, "-3/2")]
    [InlineData(-7200, 2197, "-7200/2197")]
    [InlineData(35, 384, "35/384")]
    public void ToString_IsNumeratorSlashDenominator_OrTheInteger(long p, long q, string expected) =>
        Assert.Equal(expected, Rational.Create(p, q).ToString());

    [Fact]
    public void ToString_IgnoresTheCurrentCulture()
    {
        var culture = System.Globalization.CultureInfo.CurrentCulture;
        try
        {
            // sv-SE writes a negative sign as U+2212 and groups digits; the text must stay C#-readable.
            System.Globalization.CultureInfo.CurrentCulture = new System.Globalization.CultureInfo("sv-SE");
            Assert.Equal("-1234567/2", Rational.Create(-1234567, 2).ToString());
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentCulture = culture;
        }
    }

    [Fact]
    public void Arithmetic_MatchesCrossMultiplication() =>
        Gen.Select(SmallPair, SmallPair).Sample(static (x, y) =>
        {
            var (a, b) = (Rational.Create(x.P, x.Q), Rational.Create(y.P, y.Q));

            // p1/q1 ∘ p2/q2 written out, compared by cross-multiplication so that normalisation is not assumed.
            AssertFraction(a + b, ((BigInteger)x.P * y.Q) + ((BigInteger)y.P * x.Q), (BigInteger)x.Q * y.Q);
            AssertFraction(a - b, ((BigInteger)x.P * y.Q) - ((BigInteger)y.P * x.Q), (BigInteger)x.Q * y.Q);
            AssertFraction(a * b, (BigInteger)x.P * y.P, (BigInteger)x.Q * y.Q);
            AssertFraction(-a, -x.P, x.Q);
            AssertFraction(a.Abs(), BigInteger.Abs(x.P), BigInteger.Abs(x.Q));
            if (y.P != 0)
            {
                Assert.True(a.TryDivide(b, out var quotient));
                AssertFraction(quotient, (BigInteger)x.P * y.Q, (BigInteger)x.Q * y.P);
            }
        }, iter: Iterations);

    [Fact]
    public void Arithmetic_ObeysTheFieldLaws() =>
        Gen.Select(Small, Small, Small).Sample(static (a, b, c) =>
        {
            Assert.Equal(a + b, b + a);
            Assert.Equal(a * b, b * a);
            Assert.Equal((a + b) + c, a + (b + c));
            Assert.Equal((a * b) * c, a * (b * c));
            Assert.Equal((a * (b + c)), (a * b) + (a * c));
            Assert.Equal(a, (a + b) - b);
            Assert.Equal(Rational.Zero, a - a);
            Assert.Equal(a, -(-a));
            Assert.Equal(a, a + Rational.Zero);
            Assert.Equal(a, a * Rational.One);
            Assert.Equal(Rational.Zero, a * Rational.Zero);
            if (!b.IsZero)
            {
                Assert.True(a.TryDivide(b, out var quotient));
                Assert.Equal(a, quotient * b);
                Assert.True(Rational.One.TryDivide(b, out var inverse));
                Assert.Equal(Rational.One, inverse * b);
            }
        }, iter: Iterations);

    [Fact]
    public void Equality_HashAndOrder_FollowTheValue() =>
        Gen.Select(SmallPair, SmallPair, Gen.Long[1, 1_000]).Sample(static (x, y, k) =>
        {
            var a = Rational.Create(x.P, x.Q);
            var b = Rational.Create(y.P, y.Q);
            var scaled = Rational.Create(x.P * k, x.Q * k);
            var crossSign = ((BigInteger)x.P * y.Q * Math.Sign(x.Q) * Math.Sign(y.Q)).CompareTo((BigInteger)y.P * x.Q * Math.Sign(x.Q) * Math.Sign(y.Q));

            Assert.Equal(a, scaled);
            Assert.True(a == scaled);
            Assert.True(a.Equals((object)scaled));
            Assert.Equal(a.GetHashCode(), scaled.GetHashCode());
            Assert.Equal(crossSign == 0, a == b);
            Assert.Equal(crossSign != 0, a != b);
            Assert.Equal(crossSign, Math.Sign(a.CompareTo(b)));
            Assert.Equal(-crossSign, Math.Sign(b.CompareTo(a)));
            Assert.Equal(Math.Sign(x.P) * Math.Sign(x.Q), a.Sign);
            Assert.Equal(x.P == 0, a.IsZero);
            Assert.Equal(x.P % x.Q == 0, a.IsInteger);
        }, iter: Iterations);

    [Fact]
    public void Equals_OtherTypes_IsFalse()
    {
        Assert.False(Rational.One.Equals(1));
        Assert.False(Rational.One.Equals(1.0));
        Assert.False(Rational.One.Equals(null));
    }

    [Fact]
    public void Sort_OrdersByValue()
    {
        Rational[] values = [Rational.Create(1, 2), Rational.Create(-3, 4), Rational.Zero, Rational.Create(2, 3), Rational.Create(-1, 1), Rational.Create(1, 3)];

        Assert.Equal(["-1", "-3/4", "0", "1/3", "1/2", "2/3"], values.Order().Select(static v => v.ToString()));
    }

    /// <summary>Exact arithmetic never overflows: intermediate values of hundreds of digits come back to small ones.</summary>
    [Fact]
    public void Arithmetic_GrowsWithoutOverflow()
    {
        var third = Rational.Create(1, 3);
        var power = Rational.One;
        for (var i = 0; i < 300; i++)
        {
            power *= third;
        }

        Assert.Equal(BigInteger.Pow(3, 300), power.Denominator);
        Assert.Equal(Rational.One, power * Rational.FromInteger(BigInteger.Pow(3, 300)));

        // Harmonic number H₃₀ (OEIS A001008 / A002805) and the telescoping Σ 1/(k(k+1)) = n/(n+1).
        var harmonic = Enumerable.Range(1, 30).Aggregate(Rational.Zero, static (sum, k) => sum + Rational.Create(1, k));
        Assert.Equal("9304682830147/2329089562800", harmonic.ToString());
        var telescoping = Enumerable.Range(1, 200).Aggregate(Rational.Zero, static (sum, k) => sum + Rational.Create(1, (long)k * (k + 1)));
        Assert.Equal(Rational.Create(200, 201), telescoping);

        var huge = Rational.Create(BigInteger.Pow(10, 400) + 1, BigInteger.Pow(7, 500));
        Assert.Equal(huge, (huge * huge).TryDivide(huge, out var back) ? back : Rational.Zero);
        Assert.Equal(BigInteger.Pow(7, 1000), (huge * huge).Denominator);
    }

    [Theory]
    [InlineData(1, 3, 1.0 / 3)]
    [InlineData(-7200, 2197, -7200.0 / 2197)]
    [InlineData(35, 384, 35.0 / 384)]
    [InlineData(1, 10, 0.1)]
    [InlineData(-1, 66, -1.0 / 66)]
    [InlineData(9007199254740993, 1, 9007199254740992.0)] // 2⁵³ + 1: a tie, to the even 2⁵³
    [InlineData(9007199254740995, 1, 9007199254740996.0)] // 2⁵³ + 3: a tie, to the even 2⁵³ + 4
    [InlineData(9007199254740993, 2, 4503599627370496.0)] // (2⁵³ + 1)/2 = 2⁵² + 1/2: a tie, to the even 2⁵²
    public void ToDouble_KnownValues(long p, long q, double expected) =>
        Assert.Equal(expected, Rational.Create(p, q).ToDouble());

    /// <summary>IEEE division of two exactly representable integers is correctly rounded: the reference for ±2⁵³.</summary>
    [Fact]
    public void ToDouble_OfSmallIntegers_EqualsIeeeDivision() =>
        Gen.Select(Gen.Long[-(1L << 53), 1L << 53], Gen.Long[1, 1L << 53]).Sample(static (p, q) =>
            Assert.Equal((double)p / q, Rational.Create(p, q).ToDouble()), iter: Iterations);

    /// <summary>
    /// Across the whole range (10⁻⁴⁰⁰ to 10⁴⁰⁰, so subnormals, underflow to zero and overflow to infinity included),
    /// the result is the nearest double, a tie going to the even mantissa; checked exactly against the neighbours.
    /// </summary>
    [Fact]
    public void ToDouble_IsTheNearestDouble_TiesToEven() =>
        Gen.Select(Big.Where(static p => !p.IsZero), Gen.Int[-400, 400], Gen.Byte.Array[1, 20])
            .Select(static (p, scale, q) => Rational.Create(
                scale >= 0 ? p * BigInteger.Pow(10, scale) : p,
                (scale < 0 ? BigInteger.Pow(10, -scale) : BigInteger.One) * (new BigInteger(q, isUnsigned: true) + 1)))
            .Sample(static x => AssertNearest(x, x.ToDouble()), iter: Iterations);

    /// <summary>The edges of the range, where rounding crosses into another binade, the subnormals or infinity.</summary>
    [Fact]
    public void ToDouble_AtTheEdgesOfTheRange()
    {
        var maxValue = Exact(double.MaxValue);
        var halfUlpOfMax = Exact(double.MaxValue) - Exact(Math.BitDecrement(double.MaxValue));
        halfUlpOfMax = halfUlpOfMax * Rational.Create(1, 2);
        var epsilon = Exact(double.Epsilon);
        var minNormal = Exact(2.2250738585072014E-308);

        Assert.Equal(double.MaxValue, maxValue.ToDouble());
        Assert.Equal(double.MaxValue, (maxValue + halfUlpOfMax - Rational.Create(1, 1)).ToDouble());
        Assert.Equal(double.PositiveInfinity, (maxValue + halfUlpOfMax).ToDouble()); // a tie; MaxValue's mantissa is odd
        Assert.Equal(double.NegativeInfinity, (-(maxValue + maxValue)).ToDouble());
        Assert.Equal(2.2250738585072014E-308, minNormal.ToDouble());
        Assert.Equal(Math.BitDecrement(2.2250738585072014E-308), (minNormal - epsilon).ToDouble());
        Assert.Equal(double.Epsilon, epsilon.ToDouble());
        Assert.Equal(-double.Epsilon, (-epsilon).ToDouble());
        Assert.Equal(2 * double.Epsilon, (epsilon * Rational.Create(3, 2)).ToDouble()); // a tie, to the even 2·2⁻¹⁰⁷⁴
        Assert.Equal(double.Epsilon, (epsilon * Rational.Create(5, 4)).ToDouble());
        Assert.Equal(0.0, (epsilon * Rational.Create(1, 2)).ToDouble()); // a tie, to the even 0
        Assert.Equal(double.Epsilon, (epsilon * Rational.Create(501, 1000)).ToDouble());
        Assert.Equal(0.0, Rational.Create(1, BigInteger.Pow(10, 400)).ToDouble());
        Assert.Equal(1e-320, Rational.Create(1, BigInteger.Pow(10, 320)).ToDouble());
    }

    [Fact]
    public void ToDouble_RoundTripsEveryDouble() =>
        Gen.Double.Where(static d => double.IsFinite(d)).Sample(static d => Assert.Equal(d == 0 ? 0.0 : d, Exact(d).ToDouble()), iter: Iterations);

    private static void AssertFraction(Rational actual, BigInteger p, BigInteger q) =>
        Assert.True(actual.Numerator * q == p * actual.Denominator, $"{actual} ≠ {p}/{q}");

    /// <summary>Asserts that <paramref name="result"/> is the double nearest to <paramref name="x"/>, ties to even.</summary>
    private static void AssertNearest(Rational x, double result)
    {
        Assert.False(double.IsNaN(result), $"{x} gave NaN");
        if (double.IsInfinity(result))
        {
            // Beyond MaxValue + ½ ulp (inclusive: the tie goes to the even 2¹⁰²⁴, i.e. infinity).
            var limit = Exact(double.MaxValue) + ((Exact(double.MaxValue) - Exact(Math.BitDecrement(double.MaxValue))) * Rational.Create(1, 2));
            Assert.True(x.Sign == Math.Sign(result) && x.Abs().CompareTo(limit) >= 0, $"{x} gave {result}");
            return;
        }

        Assert.True(result == 0 || Math.Sign(result) == x.Sign, $"{x} gave {result:R}");
        var distance = (Exact(result) - x).Abs();
        foreach (var neighbour in new[] { Math.BitDecrement(result), Math.BitIncrement(result) })
        {
            if (!double.IsFinite(neighbour))
            {
                continue;
            }

            var other = (Exact(neighbour) - x).Abs();
            var order = distance.CompareTo(other);
            Assert.True(order < 0 || (order == 0 && IsEven(result)), $"{x} gave {result:R}, but {neighbour:R} is at least as near");
        }
    }

    private static bool IsEven(double value) => (BitConverter.DoubleToInt64Bits(value) & 1) == 0;

    /// <summary>The exact value of a finite double, from its bits (independent of <see cref="Rational.ToDouble"/>).</summary>
    internal static Rational Exact(double value)
    {
        var bits = BitConverter.DoubleToInt64Bits(value);
        var negative = bits < 0;
        var exponent = (int)((bits >> 52) & 0x7FF);
        var mantissa = bits & 0xF_FFFF_FFFF_FFFFL;
        if (exponent == 0)
        {
            exponent = 1;
        }
        else
        {
            mantissa |= 1L << 52;
        }

        // value = mantissa · 2^(exponent − 1075)
        var power = exponent - 1075;
        var magnitude = power >= 0
            ? Rational.FromInteger(new BigInteger(mantissa) << power)
            : Rational.Create(mantissa, BigInteger.One << -power);
        return negative ? -magnitude : magnitude;
    }
}
