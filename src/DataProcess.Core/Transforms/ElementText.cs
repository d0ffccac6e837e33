using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace DataProcess.Core.Transforms;

/// <summary>Reads the text of a string value of a parsed document without allocating a string when it can.</summary>
internal static class ElementText
{
    /// <summary>
    /// The raw UTF-8 of a string value, without its quotes, when it holds no escape sequence (then it is the
    /// value's exact UTF-8); false when it is escaped or not a string.
    /// </summary>
    public static bool TryGetUtf8(JsonElement element, out ReadOnlySpan<byte> utf8)
    {
        utf8 = default;
        if (element.ValueKind != JsonValueKind.String)
        {
            return false;
        }

        var raw = JsonMarshal.GetRawUtf8Value(element);
        raw = raw[1..^1];
        if (raw.IndexOf((byte)'\\') >= 0)
        {
            return false;
        }

        utf8 = raw;
        return true;
    }

    /// <summary>
    /// The string value decoded into <paramref name="buffer"/>; false when it does not fit, is escaped or is not a
    /// string (then call <see cref="JsonElement.GetString"/>).
    /// </summary>
    public static bool TryGetChars(JsonElement element, Span<char> buffer, out ReadOnlySpan<char> text)
    {
        text = default;
        if (!TryGetUtf8(element, out var utf8) || utf8.Length > buffer.Length)
        {
            return false;
        }

        var length = Encoding.UTF8.GetChars(utf8, buffer);
        text = buffer[..length];
        return true;
    }
}
