using System.Globalization;
using System.Text;

namespace DataProcess.Core.Transforms;

/// <summary>
/// One text per JSON number value, whatever its spelling: <c>1e2</c>, <c>1.0E+2</c>, <c>100.00</c> and <c>100</c>
/// are all <c>100</c>; <c>-0.0</c> is <c>0</c>. Used wherever the pipeline turns a number into text of its own (a
/// record id, the input of <c>hash</c> and <c>mask</c>, <c>lowercase</c>), so the rows never depend on how the
/// source wrote the number. The form is plain decimal (no exponent, no trailing fraction zeros); a value whose plain
/// form would exceed <see cref="MaxPlainLength"/> characters is written <c>d.ddde±N</c> instead, so a hostile
/// <c>1e999999999</c> costs a few bytes, not a gigabyte.
/// </summary>
internal static class NumberText
{
    public const int MaxPlainLength = 256;

    /// <summary>True when <paramref name="raw"/> (a JSON number token) already is its canonical text.</summary>
    public static bool IsCanonical(ReadOnlySpan<byte> raw) =>
        raw.IndexOfAny("eE."u8) < 0 && !(raw.Length == 2 && raw[0] == (byte)'-' && raw[1] == (byte)'0');

    /// <summary>The canonical text of a JSON number token.</summary>
    public static string Canonical(ReadOnlySpan<byte> raw)
    {
        if (IsCanonical(raw))
        {
            return Encoding.UTF8.GetString(raw);
        }

        var i = 0;
        var negative = raw[0] == (byte)'-';
        if (negative)
        {
            i++;
        }

        var digits = new StringBuilder(raw.Length);
        long fractionDigits = 0;
        var inFraction = false;
        for (; i < raw.Length && raw[i] is not ((byte)'e' or (byte)'E'); i++)
        {
            if (raw[i] == (byte)'.')
            {
                inFraction = true;
                continue;
            }

            // Leading zeros carry no value (they can only come from "0" or the "0." of a fraction).
            if (digits.Length > 0 || raw[i] != (byte)'0')
            {
                digits.Append((char)raw[i]);
            }

            if (inFraction)
            {
                fractionDigits++;
            }
        }

        long exponent = 0;
        if (i < raw.Length)
        {
            i++;
            var negativeExponent = raw[i] == (byte)'-';
            if (raw[i] is (byte)'-' or (byte)'+')
            {
                i++;
            }

            for (; i < raw.Length; i++)
            {
                // Saturate: beyond 10^15 every exponent gives the same (absurd) value's text anyway.
                exponent = Math.Min((exponent * 10) + (raw[i] - '0'), 1_000_000_000_000_000);
            }

            if (negativeExponent)
            {
                exponent = -exponent;
            }
        }

        var trailingZeros = 0;
        while (trailingZeros < digits.Length && digits[digits.Length - 1 - trailingZeros] == '0')
        {
            trailingZeros++;
        }

        digits.Length -= trailingZeros;
        if (digits.Length == 0)
        {
            return "0";
        }

        // The value is digits × 10^scale.
        var scale = exponent - fractionDigits + trailingZeros;
        var sign = negative ? "-" : string.Empty;
        var count = digits.Length;
        var pointAt = count + scale;
        var plainLength = scale >= 0 ? count + scale : pointAt > 0 ? count + 1 : 2 - pointAt + count;
        if (plainLength > MaxPlainLength)
        {
            var mantissa = count == 1 ? digits.ToString() : $"{digits[0]}.{digits.ToString(1, count - 1)}";
            var power = pointAt - 1;
            return string.Create(CultureInfo.InvariantCulture, $"{sign}{mantissa}e{(power < 0 ? '-' : '+')}{Math.Abs(power)}");
        }

        var text = digits.ToString();
        if (scale >= 0)
        {
            return sign + text + new string('0', (int)scale);
        }

        return pointAt > 0
            ? $"{sign}{text[..(int)pointAt]}.{text[(int)pointAt..]}"
            : $"{sign}0.{new string('0', (int)-pointAt)}{text}";
    }
}
