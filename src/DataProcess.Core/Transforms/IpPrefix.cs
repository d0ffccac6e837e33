using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace DataProcess.Core.Transforms;

/// <summary>The <c>ip-prefix</c> method: an address becomes the network it is in (IPv4 /24, IPv6 /48).</summary>
internal static class IpPrefix
{
    private const int Ipv6PrefixBytes = 6;

    /// <summary>The network in CIDR notation, or null when the text is not an address written the usual way.</summary>
    public static string? Compute(ReadOnlySpan<char> text)
    {
        if (text.Contains(':'))
        {
            return ComputeV6(text);
        }

        // IPAddress.TryParse is deliberately not used for IPv4: it accepts "1", "1.2.3", hex and octal
        // ("010.1.1.1" is 8.1.1.1), so the prefix of a typo would be stored as if it were real.
        Span<byte> octets = stackalloc byte[4];
        return TryParseDottedQuad(text, octets) ? FormatV4(octets) : null;
    }

    private static string? ComputeV6(ReadOnlySpan<char> text)
    {
        // Zones ("%eth0"), brackets and ports ("[::1]:80") and prefixes are accepted by IPAddress but are
        // not an address value; whitespace inside means the field is something else.
        foreach (var c in text)
        {
            if (c is '%' or '[' or ']' or '/' || char.IsWhiteSpace(c))
            {
                return null;
            }
        }

        if (!IPAddress.TryParse(text, out var address) || address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return null;
        }

        Span<byte> bytes = stackalloc byte[16];
        if (!address.TryWriteBytes(bytes, out _))
        {
            return null;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            return FormatV4(bytes[12..]);
        }

        bytes[Ipv6PrefixBytes..].Clear();

        // IPAddress formats RFC 5952 canonical text: lowercase, zeros compressed.
        return new IPAddress(bytes).ToString() + "/48";
    }

    private static string FormatV4(ReadOnlySpan<byte> octets) =>
        string.Create(CultureInfo.InvariantCulture, $"{octets[0]}.{octets[1]}.{octets[2]}.0/24");

    /// <summary>Exactly four decimal parts of 0-255, no leading zeros, nothing else.</summary>
    private static bool TryParseDottedQuad(ReadOnlySpan<char> text, Span<byte> octets)
    {
        var part = 0;
        var i = 0;
        while (part < 4)
        {
            var start = i;
            var value = 0;
            while (i < text.Length && char.IsAsciiDigit(text[i]) && i - start < 3)
            {
                value = (value * 10) + (text[i] - '0');
                i++;
            }

            var digits = i - start;
            if (digits == 0 || value > 255 || (digits > 1 && text[start] == '0'))
            {
                return false;
            }

            octets[part++] = (byte)value;
            if (part < 4)
            {
                if (i >= text.Length || text[i] != '.')
                {
                    return false;
                }

                i++;
            }
        }

        return i == text.Length;
    }
}
