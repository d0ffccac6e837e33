using System.Buffers;

namespace DataProcess.Core.Transforms;

/// <summary>
/// Finds and drops the insignificant whitespace of a JSON value that the reader already checked, without
/// tokenizing it: only string boundaries matter, and a string is skipped with one vectorised search.
/// Strings are copied byte for byte (JSON forbids a raw tab, CR or LF inside one, so a staged line stays one line).
/// </summary>
internal static class CompactJson
{
    private static readonly SearchValues<byte> QuoteOrBackslash = SearchValues.Create("\"\\"u8);
    private static readonly SearchValues<byte> TabCrLf = SearchValues.Create("\t\r\n"u8);

    /// <summary>The position of the first whitespace byte outside a string, or -1 when the value is compact.</summary>
    public static int IndexOfWhitespace(ReadOnlySpan<byte> json)
    {
        // A tab, CR or LF is never inside a string (JSON escapes them), and a value without a space needs no walk:
        // two vectorised passes settle most values. Only spaces ahead of the first line break need the strings walked.
        var lineBreak = json.IndexOfAny(TabCrLf);
        var limit = lineBreak < 0 ? json.Length : lineBreak;
        if (json[..limit].IndexOf((byte)' ') < 0)
        {
            return lineBreak;
        }

        var i = 0;
        while (i < limit)
        {
            var b = json[i];
            if (b == (byte)'"')
            {
                i = AfterString(json, i);
            }
            else if (b == (byte)' ')
            {
                return i;
            }
            else
            {
                i++;
            }
        }

        return lineBreak;
    }

    /// <summary>
    /// Writes <paramref name="json"/> without whitespace outside strings to <paramref name="destination"/> (at least
    /// as long as the input) and returns the length: the bytes a compact source would have had.
    /// </summary>
    public static int Copy(ReadOnlySpan<byte> json, Span<byte> destination)
    {
        // Between strings a pretty value is short tokens and whitespace: a plain loop beats vectorised searches there.
        var written = 0;
        var i = 0;
        while (i < json.Length)
        {
            var b = json[i];
            if (b == (byte)'"')
            {
                var after = AfterString(json, i);
                json[i..after].CopyTo(destination[written..]);
                written += after - i;
                i = after;
                continue;
            }

            if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n'))
            {
                destination[written++] = b;
            }

            i++;
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
