using System.Buffers;

namespace DataProcess.Core.Transforms;

/// <summary>
/// Finds and drops the insignificant whitespace of a JSON value that the reader already checked, without
/// tokenizing it: only string boundaries matter, so the scan jumps from quote to quote with vectorised searches.
/// Strings are copied byte for byte (JSON forbids a raw tab, CR or LF inside one, so a staged line stays one line).
/// </summary>
internal static class CompactJson
{
    private static readonly SearchValues<byte> WhitespaceOrQuote = SearchValues.Create(" \t\r\n\""u8);
    private static readonly SearchValues<byte> QuoteOrBackslash = SearchValues.Create("\"\\"u8);

    /// <summary>The position of the first whitespace byte outside a string, or -1 when the value is compact.</summary>
    public static int IndexOfWhitespace(ReadOnlySpan<byte> json)
    {
        var i = 0;
        while (true)
        {
            var next = json[i..].IndexOfAny(WhitespaceOrQuote);
            if (next < 0)
            {
                return -1;
            }

            i += next;
            if (json[i] != (byte)'"')
            {
                return i;
            }

            i = AfterString(json, i);
        }
    }

    /// <summary>
    /// Writes <paramref name="json"/> without whitespace outside strings to <paramref name="destination"/> (at least
    /// as long as the input) and returns the length: the bytes a compact source would have had.
    /// </summary>
    public static int Copy(ReadOnlySpan<byte> json, Span<byte> destination)
    {
        var written = 0;
        var i = 0;
        while (i < json.Length)
        {
            var next = json[i..].IndexOfAny(WhitespaceOrQuote);
            var end = next < 0 ? json.Length : i + next;
            json[i..end].CopyTo(destination[written..]);
            written += end - i;
            i = end;
            if (i == json.Length)
            {
                break;
            }

            if (json[i] == (byte)'"')
            {
                var after = AfterString(json, i);
                json[i..after].CopyTo(destination[written..]);
                written += after - i;
                i = after;
            }
            else
            {
                var rest = json[i..].IndexOfAnyExcept(" \t\r\n"u8);
                i = rest < 0 ? json.Length : i + rest;
            }
        }

        return written;
    }

    /// <summary>The index after the closing quote of the string that opens at <paramref name="quote"/>.</summary>
    private static int AfterString(ReadOnlySpan<byte> json, int quote)
    {
        var i = quote + 1;
        while (true)
        {
            var next = json[i..].IndexOfAny(QuoteOrBackslash);
            if (next < 0)
            {
                throw new ArgumentException("the JSON value has an unterminated string", nameof(json));
            }

            i += next;
            if (json[i] == (byte)'"')
            {
                return i + 1;
            }

            // The escaped byte is never the closing quote; the hex digits of \uXXXX are neither quote nor backslash.
            i += 2;
        }
    }
}
