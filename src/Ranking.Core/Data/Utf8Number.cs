using System.Globalization;
using System.Runtime.CompilerServices;

namespace Ranking.Data;

/// <summary>
/// Number parsing straight from UTF-8 bytes, the hot path of every text reader. Floats are parsed
/// exactly as <see cref="float.Parse(string)"/> would (correctly rounded): the common short decimals go
/// through one exact double operation (mantissa below 2^53 times an exact power of ten), and the rare
/// cases where rounding the double to float could differ from rounding the decimal directly (a double
/// sitting exactly on a float midpoint), long mantissas, big exponents and special names fall back to
/// the framework's parser.
/// </summary>
internal static class Utf8Number
{
    /// <summary>The powers of ten a double holds exactly (data in the assembly image: no static base to fetch).</summary>
    private static ReadOnlySpan<double> PowersOfTen =>
    [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ];

    public static bool TryParseFloat(ReadOnlySpan<byte> s, out float value)
    {
        if (ScanFloat(s, out value) == s.Length) return true;
        return Fallback(s, out value);
    }

    /// <summary>
    /// The fast path of <see cref="TryParseFloat(ReadOnlySpan{byte}, out float)"/> over the number at the
    /// start of <paramref name="s"/>: <c>[+-]digits[.digits][e[+-]digits]</c>, stopping at the first byte that
    /// cannot continue it. Returns how many bytes it took, with <paramref name="value"/> correctly rounded;
    /// or -1 when the careful path must decide (no digit, an exponent without digits, more than 19 digits,
    /// a mantissa or power of ten beyond exact doubles, a double on a float midpoint). A caller that finds a
    /// delimiter right after the number has the token's value in one pass over its bytes (the SVMlight
    /// reader's <c>index:value</c> loop); anything else goes the careful way.
    /// </summary>
    // Its own method, compiled fully optimised at once (a parse calls it millions of times in one go):
    // inlined into the line loop it lost its registers to the loop's, and as a tiered method it spent the
    // start of every command-line parse in tier-0 code.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static int ScanFloat(ReadOnlySpan<byte> s, out float value)
    {
        value = 0;
        int i = 0;
        bool negative = false;
        if (s.Length > 0 && (s[0] == (byte)'-' || s[0] == (byte)'+'))
        {
            negative = s[0] == (byte)'-';
            i = 1;
        }
        // Every digit goes into the mantissa, leading zeros too: 19 decimal digits always fit a ulong,
        // and a longer number is rare enough to leave to the careful path.
        ulong mantissa = 0;
        int digitsStart = i;
        for (; (uint)i < (uint)s.Length; i++)
        {
            uint d = (uint)(s[i] - '0');
            if (d > 9) break;
            mantissa = mantissa * 10 + d;
        }
        int digits = i - digitsStart, exponent = 0;
        if ((uint)i < (uint)s.Length && s[i] == (byte)'.')
        {
            int fractionStart = ++i;
            for (; (uint)i < (uint)s.Length; i++)
            {
                uint d = (uint)(s[i] - '0');
                if (d > 9) break;
                mantissa = mantissa * 10 + d;
            }
            exponent = fractionStart - i;
            digits -= exponent;
        }
        if (digits == 0 || digits > 19) return -1;
        if ((uint)i < (uint)s.Length && (s[i] | 0x20) == (byte)'e')
        {
            int j = i + 1;
            bool expNegative = false;
            if ((uint)j < (uint)s.Length && (s[j] == (byte)'-' || s[j] == (byte)'+')) { expNegative = s[j] == (byte)'-'; j++; }
            int e = 0, start = j;
            for (; (uint)j < (uint)s.Length; j++)
            {
                uint d = (uint)(s[j] - '0');
                if (d > 9) break;
                if (e < 100000) e = e * 10 + (int)d;
            }
            if (j == start) return -1;
            exponent += expNegative ? -e : e;
            i = j;
        }
        if (mantissa == 0) { value = negative ? -0f : 0f; return i; }
        if (mantissa > (1UL << 53) || exponent < -22 || exponent > 22) return -1;
        ReadOnlySpan<double> powers = PowersOfTen;
        double m = (long)mantissa;
        double exact = exponent >= 0 ? m * powers[exponent] : m / powers[-exponent];
        // Below float precision a double keeps 29 more bits; exactly 1000...0 there means the double may
        // be a rounded value sitting on a float midpoint, where a second rounding could go the wrong way.
        if ((BitConverter.DoubleToUInt64Bits(exact) & 0x1FFFFFFFUL) == 0x10000000UL) return -1;
        float f = (float)exact;
        value = negative ? -f : f;
        return i;
    }

    /// <summary>The same grammar for text already decoded (CSV cells).</summary>
    public static bool TryParseFloat(ReadOnlySpan<char> s, out float value)
    {
        if (s.Length > 64)
        {
            foreach (char c in s)
                if (!(c is >= '0' and <= '9' or '+' or '-' or '.' or 'e' or 'E')) { value = 0; return false; }
            return float.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
        }
        Span<byte> bytes = stackalloc byte[s.Length];
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] > 127) { value = 0; return false; }
            bytes[i] = (byte)s[i];
        }
        return TryParseFloat(bytes, out value);
    }

    private static bool Fallback(ReadOnlySpan<byte> s, out float value)
    {
        if (IsName(s, "nan", out _)) { value = float.NaN; return true; }
        if (IsName(s, "inf", out bool neg) || IsName(s, "infinity", out neg))
        {
            value = neg ? float.NegativeInfinity : float.PositiveInfinity;
            return true;
        }
        // float.TryParse also takes surrounding whitespace and trailing NUL characters ("0.1\0" reads as
        // 0.1): a NUL-padded file left by a crash must not parse, so only number characters get that far.
        if (!IsNumberText(s)) { value = 0; return false; }
        return float.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
    }

    private static bool IsNumberText(ReadOnlySpan<byte> s)
    {
        foreach (byte b in s)
            if (!(b is >= (byte)'0' and <= (byte)'9' or (byte)'+' or (byte)'-' or (byte)'.' or (byte)'e' or (byte)'E')) return false;
        return true;
    }

    private static bool IsName(ReadOnlySpan<byte> s, string name, out bool negative)
    {
        negative = false;
        if (s.Length > 0 && (s[0] == (byte)'-' || s[0] == (byte)'+')) { negative = s[0] == (byte)'-'; s = s[1..]; }
        if (s.Length != name.Length) return false;
        for (int i = 0; i < s.Length; i++)
            if ((s[i] | 0x20) != name[i]) return false;
        return true;
    }

    /// <summary>A positive or zero decimal integer that fits an int; no sign, no spaces.</summary>
    public static bool TryParseIndex(ReadOnlySpan<byte> s, out int value)
    {
        value = 0;
        if (s.Length == 0 || s.Length > 10) return false;
        long v = 0;
        foreach (byte b in s)
        {
            uint d = (uint)(b - '0');
            if (d > 9) return false;
            v = v * 10 + d;
        }
        if (v > int.MaxValue) return false;
        value = (int)v;
        return true;
    }

    /// <summary>A decimal integer (optional minus) that fits a long.</summary>
    public static bool TryParseLong(ReadOnlySpan<byte> s, out long value)
    {
        value = 0;
        for (int i = 0; i < s.Length; i++)
            if (!(s[i] is >= (byte)'0' and <= (byte)'9' || (i == 0 && s[i] is (byte)'-' or (byte)'+'))) return false; // no trailing NUL
        return long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>Shortest text that parses back to the same float ("R" semantics), invariant culture.</summary>
    public static string Format(float value) => value.ToString("R", CultureInfo.InvariantCulture);
}
