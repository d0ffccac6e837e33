using System.Globalization;
using System.Text.Json;

namespace DataProcess.Core.Transforms;

/// <summary>
/// Reads the dates found in real exports. The result keeps the offset the value was written with
/// (so its calendar date and year are the ones a person wrote); a value without a zone is UTC.
/// </summary>
internal static class DateValues
{
    /// <summary>Above this a JSON number is taken as epoch milliseconds: 10^11 seconds is the year 5138.</summary>
    private const double MillisecondsThreshold = 1e11;

    /// <summary>Longer text is not a date; refusing it early keeps a hostile value from costing a format scan.</summary>
    private const int MaxLength = 64;

    private static readonly long MinUnixMilliseconds = DateTimeOffset.MinValue.ToUnixTimeMilliseconds();
    private static readonly long MaxUnixMilliseconds = DateTimeOffset.MaxValue.ToUnixTimeMilliseconds();

    /// <summary>
    /// The formats besides ISO 8601 (which has its own fast path). Each has an unambiguous field order:
    /// "01/02/2003" is refused rather than guessed as January or February.
    /// </summary>
    private static readonly string[] OtherFormats =
    [
        // RFC 1123 / RFC 2822, with or without the day name.
        "ddd, d MMM yyyy HH:mm:ss 'GMT'",
        "ddd, d MMM yyyy HH:mm:ss 'UTC'",
        "ddd, d MMM yyyy HH:mm:ss zzz",
        "d MMM yyyy HH:mm:ss 'GMT'",
        "d MMM yyyy HH:mm:ss 'UTC'",
        "d MMM yyyy HH:mm:ss zzz",

        // Twitter / Unix date(1).
        "ddd MMM d HH:mm:ss zzz yyyy",
        "yyyy/MM/dd",
        "yyyy/MM/dd HH:mm:ss",
        "d.M.yyyy",
        "d.M.yyyy HH:mm",
        "d.M.yyyy HH:mm:ss",
        "yyyyMMdd",
    ];

    /// <summary>Parses a date/timestamp of any common format; a value without zone is UTC.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out DateTimeOffset value)
    {
        text = text.Trim();
        if (text.IsEmpty || text.Length > MaxLength)
        {
            value = default;
            return false;
        }

        if (text.Length >= 10 && text[4] == '-')
        {
            return TryParseIso(text, out value);
        }

        // DateTimeOffset refuses a value whose UTC instant falls outside years 1..9999 by returning false.
        return DateTimeOffset.TryParseExact(text, OtherFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out value);
    }

    /// <summary>A date string, or a JSON number: a four-digit whole number is a year, others Unix epoch seconds (milliseconds when &gt; 10^11).</summary>
    internal static bool TryParse(JsonElement element, out DateTimeOffset value)
    {
        value = default;
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                Span<char> buffer = stackalloc char[MaxLength * 2];
                return ElementText.TryGetChars(element, buffer, out var text) ? TryParse(text, out value) : TryParse(element.GetString().AsSpan(), out value);
            case JsonValueKind.Number:
                return element.TryGetDouble(out var number) && TryFromEpoch(number, out value);
            default:
                return false;
        }
    }

    private static bool TryFromEpoch(double number, out DateTimeOffset value)
    {
        value = default;
        if (!double.IsFinite(number))
        {
            return false;
        }

        // A whole number of four digits is a year (a birth year stored as 1998), not 1998 seconds
        // after 1970: no real export counts timestamps from the first three hours of the epoch.
        if (number is >= 1000 and <= 9999 && Math.Floor(number) == number)
        {
            value = new DateTimeOffset((int)number, 1, 1, 0, 0, 0, TimeSpan.Zero);
            return true;
        }

        var milliseconds = Math.Abs(number) > MillisecondsThreshold ? number : number * 1000;
        if (milliseconds < MinUnixMilliseconds || milliseconds > MaxUnixMilliseconds)
        {
            return false;
        }

        // Sub-millisecond digits are dropped: no source system means them.
        value = DateTimeOffset.FromUnixTimeMilliseconds((long)milliseconds);
        return true;
    }

    /// <summary>
    /// yyyy-MM-dd, optionally followed by ('T' | 't' | ' ') HH:mm[:ss[(.|,)fraction]] and a zone
    /// ('Z', ±HH, ±HHmm, ±HH:mm). Hand-written because it is by far the most common form and
    /// the general parser spends most of its time rejecting the other formats.
    /// </summary>
    private static bool TryParseIso(ReadOnlySpan<char> s, out DateTimeOffset value)
    {
        value = default;
        if (!TryDigits(s, 0, 4, out var year) || s[4] != '-' || !TryDigits(s, 5, 2, out var month) || s[7] != '-'
            || !TryDigits(s, 8, 2, out var day))
        {
            return false;
        }

        if (year < 1 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month))
        {
            return false;
        }

        int hour = 0, minute = 0, second = 0;
        long fractionTicks = 0;
        var offset = TimeSpan.Zero;
        var i = 10;
        if (i < s.Length)
        {
            if (s[i] is not ('T' or 't' or ' ') || !TryDigits(s, i + 1, 2, out hour) || !At(s, i + 3, ':')
                || !TryDigits(s, i + 4, 2, out minute))
            {
                return false;
            }

            i += 6;
            if (At(s, i, ':'))
            {
                if (!TryDigits(s, i + 1, 2, out second))
                {
                    return false;
                }

                i += 3;
                if (At(s, i, '.') || At(s, i, ','))
                {
                    i++;
                    var start = i;
                    long scale = TimeSpan.TicksPerSecond;
                    while (i < s.Length && char.IsAsciiDigit(s[i]))
                    {
                        // Digits beyond the 100 ns tick (e.g. nanoseconds) are dropped, not rounded.
                        scale /= 10;
                        fractionTicks += (s[i] - '0') * scale;
                        i++;
                    }

                    if (i == start || i - start > 9)
                    {
                        return false;
                    }
                }
            }

            if (hour > 23 || minute > 59 || second > 59 || !TryParseZone(s[i..], out offset))
            {
                return false;
            }
        }

        var local = new DateTime(year, month, day, hour, minute, second, DateTimeKind.Unspecified).Ticks + fractionTicks;
        var utc = local - offset.Ticks;
        if (utc < DateTime.MinValue.Ticks || utc > DateTime.MaxValue.Ticks)
        {
            return false;
        }

        value = new DateTimeOffset(local, offset);
        return true;
    }

    private static bool TryParseZone(ReadOnlySpan<char> zone, out TimeSpan offset)
    {
        offset = TimeSpan.Zero;
        if (zone.IsEmpty || zone is "Z" or "z")
        {
            return true;
        }

        if (zone[0] is not ('+' or '-') || !TryDigits(zone, 1, 2, out var hours))
        {
            return false;
        }

        var minutes = 0;
        var ok = zone.Length switch
        {
            3 => true,
            5 => TryDigits(zone, 3, 2, out minutes),
            6 => zone[3] == ':' && TryDigits(zone, 4, 2, out minutes),
            _ => false,
        };
        if (!ok || hours > 14 || minutes > 59 || (hours == 14 && minutes > 0))
        {
            return false;
        }

        offset = new TimeSpan(hours, minutes, 0);
        if (zone[0] == '-')
        {
            offset = -offset;
        }

        return true;
    }

    private static bool At(ReadOnlySpan<char> s, int index, char c) => index < s.Length && s[index] == c;

    private static bool TryDigits(ReadOnlySpan<char> s, int start, int count, out int value)
    {
        value = 0;
        if (start + count > s.Length)
        {
            return false;
        }

        for (var i = start; i < start + count; i++)
        {
            if (!char.IsAsciiDigit(s[i]))
            {
                return false;
            }

            value = (value * 10) + (s[i] - '0');
        }

        return true;
    }
}
