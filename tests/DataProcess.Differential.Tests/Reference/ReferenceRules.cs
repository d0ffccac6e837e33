using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using DataProcess.Core.Transforms;

namespace DataProcess.Differential.Tests.Reference;

/// <summary>
/// The value rules of the profile contract, written from the README's tables and nothing else: deliberately plain
/// (strings, lists, regular expressions), never sharing code with the pipeline's transforms. Only the HMAC primitive
/// and the date-format and country tables (<see cref="DateValues.TryParse(ReadOnlySpan{char}, out DateTimeOffset)"/>,
/// <see cref="Countries.EnglishName"/>) are the pipeline's.
/// </summary>
public static partial class ReferenceRules
{
    /// <summary>A number's one text: plain decimal, no exponent, no trailing fraction zeros, no negative zero.</summary>
    public static string NumberText(string json)
    {
        var match = NumberSyntax().Match(json);
        if (!match.Success)
        {
            throw new ArgumentException($"not a JSON number: {json}", nameof(json));
        }

        var negative = match.Groups[1].Value == "-";
        var integer = match.Groups[2].Value;
        var fraction = match.Groups[3].Value;
        var exponent = match.Groups[4].Success ? BigInteger.Parse(match.Groups[4].Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture) : BigInteger.Zero;

        // value = significand × 10^power
        var significand = (integer + fraction).TrimStart('0');
        var power = exponent - fraction.Length;
        var trimmed = significand.TrimEnd('0');
        power += significand.Length - trimmed.Length;
        significand = trimmed;
        if (significand.Length == 0)
        {
            return "0";
        }

        var pointAt = (int)(significand.Length + power);
        string plain;
        if (power >= 0)
        {
            plain = significand + new string('0', (int)power);
        }
        else if (pointAt > 0)
        {
            plain = significand.Insert(pointAt, ".");
        }
        else
        {
            plain = "0." + new string('0', -pointAt) + significand;
        }

        if (plain.Length > 256)
        {
            var mantissa = significand.Length == 1 ? significand : significand[0] + "." + significand[1..];
            var tenPower = pointAt - 1;
            plain = mantissa + "e" + (tenPower < 0 ? "-" : "+") + Math.Abs(tenPower).ToString(CultureInfo.InvariantCulture);
        }

        return (negative ? "-" : string.Empty) + plain;
    }

    public static string Hash(byte[] key, string text) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(text)));

    /// <summary>Every character but the last four is '*'; a character is a Unicode scalar (an emoji is one).</summary>
    public static string Mask(string text)
    {
        var scalars = text.EnumerateRunes().Select(r => r.ToString()).ToList();
        var kept = Math.Min(4, scalars.Count);
        return new string('*', scalars.Count - kept) + (scalars.Count <= 4 ? new string('*', kept) : string.Concat(scalars.TakeLast(4)));
    }

    /// <summary>IPv4 → a.b.c.0/24; IPv6 → its /48 (an IPv4-mapped one → the IPv4 /24); anything else null.</summary>
    public static string? IpPrefix(string text)
    {
        var v4 = DottedQuad().Match(text);
        if (v4.Success)
        {
            return $"{v4.Groups[1].Value}.{v4.Groups[2].Value}.{v4.Groups[3].Value}.0/24";
        }

        if (!text.Contains(':', StringComparison.Ordinal) || text.Any(c => c is '%' or '[' or ']' or '/' || char.IsWhiteSpace(c))
            || !IPAddress.TryParse(text, out var address) || address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return null;
        }

        var bytes = address.GetAddressBytes();
        if (address.IsIPv4MappedToIPv6)
        {
            return $"{bytes[12]}.{bytes[13]}.{bytes[14]}.0/24";
        }

        for (var i = 6; i < 16; i++)
        {
            bytes[i] = 0;
        }

        return new IPAddress(bytes) + "/48";
    }

    public static string? EmailDomain(string text)
    {
        var email = text.Trim();
        var at = email.LastIndexOf('@');
        if (at < 0)
        {
            return null;
        }

        var domain = email[(at + 1)..];
        var labels = domain.Split('.');
        var valid = domain.Length <= 253 && labels.Length >= 2 && labels.All(l => l.Length > 0 && l.All(c => c == '-' || char.IsLetterOrDigit(c)));
        return valid ? domain.ToLowerInvariant() : null;
    }

    /// <summary>A date from a string of a common format, or a number: four digits are a year, else Unix seconds (milliseconds above 10^11).</summary>
    public static DateTimeOffset? Date(JsonNode? value)
    {
        switch (value?.GetValueKind())
        {
            case JsonValueKind.String:
                return DateValues.TryParse(value.GetValue<string>().AsSpan(), out var parsed) ? parsed : null;
            case JsonValueKind.Number:
                var number = double.Parse(value.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture);
                if (!double.IsFinite(number))
                {
                    return null;
                }

                if (number >= 1000 && number <= 9999 && number == Math.Truncate(number))
                {
                    return new DateTimeOffset((int)number, 1, 1, 0, 0, 0, TimeSpan.Zero);
                }

                var milliseconds = Math.Abs(number) > 1e11 ? number : number * 1000;
                var lowest = DateTimeOffset.MinValue.ToUnixTimeMilliseconds();
                var highest = DateTimeOffset.MaxValue.ToUnixTimeMilliseconds();
                return milliseconds >= lowest && milliseconds <= highest ? DateTimeOffset.FromUnixTimeMilliseconds((long)milliseconds) : null;
            default:
                return null;
        }
    }

    /// <summary>Whole years from the date as written to the run's start (UTC); a date after it gives null.</summary>
    public static int? Age(DateTimeOffset born, DateTimeOffset asOf)
    {
        if (born > asOf)
        {
            return null;
        }

        var today = asOf.UtcDateTime;
        var birthday = born.DateTime;
        var years = today.Year - birthday.Year;
        var hadBirthday = today.Month > birthday.Month || (today.Month == birthday.Month && today.Day >= birthday.Day);
        return Math.Max(0, hadBirthday ? years : years - 1);
    }

    public static string Utc(DateTimeOffset instant)
    {
        var utc = instant.UtcDateTime;
        var text = utc.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture);
        var fraction = (utc.Ticks % TimeSpan.TicksPerSecond).ToString("D7", CultureInfo.InvariantCulture).TrimEnd('0');
        return text + (fraction.Length > 0 ? "." + fraction : string.Empty) + "Z";
    }

    [GeneratedRegex(@"\A(-?)(0|[1-9][0-9]*)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?\z", RegexOptions.CultureInvariant)]
    private static partial Regex NumberSyntax();

    [GeneratedRegex(@"\A(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])\.(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])\z", RegexOptions.CultureInvariant)]
    private static partial Regex DottedQuad();
}
