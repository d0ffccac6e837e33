using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DataProcess.Differential.Tests.Reference;

/// <summary>
/// One text per JSON value, with jsonb's notion of equality: keys sorted, the last of duplicate keys kept, strings
/// decoded and re-escaped one way, numbers by value. Two values are equal as jsonb when their canonical texts are.
/// </summary>
public static class CanonicalJson
{
    private static readonly JsonDocumentOptions Lenient = new() { MaxDepth = 1024, AllowDuplicateProperties = true };

    public static string Of(ReadOnlySpan<byte> utf8Json)
    {
        using var document = JsonDocument.Parse(utf8Json.ToArray(), Lenient);
        var text = new StringBuilder();
        Write(document.RootElement, text);
        return text.ToString();
    }

    public static string Of(JsonNode? node) => Of(Encoding.UTF8.GetBytes(node?.ToJsonString() ?? "null"));

    private static void Write(JsonElement element, StringBuilder text)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var last = new SortedDictionary<string, JsonElement>(StringComparer.Ordinal);
                foreach (var property in element.EnumerateObject())
                {
                    last[property.Name] = property.Value;
                }

                text.Append('{');
                var first = true;
                foreach (var (name, value) in last)
                {
                    text.Append(first ? string.Empty : ",");
                    first = false;
                    WriteString(name, text);
                    text.Append(':');
                    Write(value, text);
                }

                text.Append('}');
                break;
            case JsonValueKind.Array:
                text.Append('[');
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    text.Append(index++ == 0 ? string.Empty : ",");
                    Write(item, text);
                }

                text.Append(']');
                break;
            case JsonValueKind.String:
                WriteString(element.GetString()!, text);
                break;
            case JsonValueKind.Number:
                text.Append(ReferenceRules.NumberText(element.GetRawText()));
                break;
            default:
                text.Append(element.GetRawText());
                break;
        }
    }

    private static void WriteString(string value, StringBuilder text)
    {
        text.Append('"');
        foreach (var c in value)
        {
            if (c is '"' or '\\')
            {
                text.Append('\\').Append(c);
            }
            else if (c < ' ')
            {
                text.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            }
            else
            {
                text.Append(c);
            }
        }

        text.Append('"');
    }
}
