using System.Text.Json;

namespace DataProcess.Core.Staging;

/// <summary>Property names of a staged line.</summary>
internal static class StagedLine
{
    public static ReadOnlySpan<byte> IndexProperty => "i"u8;

    public static ReadOnlySpan<byte> IdProperty => "id"u8;

    public static ReadOnlySpan<byte> RecordProperty => "r"u8;

    public static ReadOnlySpan<byte> EnrichmentProperty => "e"u8;

    public static ReadOnlySpan<byte> RejectProperty => "x"u8;

    /// <summary>
    /// Reads the head of a staged line (<c>i</c>, <c>id</c>, <c>x</c>) and stops on the name of its payload
    /// (<c>r</c> or <c>e</c>), if any. False when the line is not a staged record.
    /// </summary>
    public static bool TryReadHead(ref Utf8JsonReader reader, out long index, out string? id, out string? reject, out bool hasPayload)
    {
        index = -1;
        id = null;
        reject = null;
        hasPayload = false;
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals(IndexProperty))
                {
                    reader.Read();
                    index = reader.GetInt64();
                }
                else if (reader.ValueTextEquals(IdProperty))
                {
                    reader.Read();
                    id = reader.TokenType == JsonTokenType.Null ? null : reader.GetString();
                }
                else if (reader.ValueTextEquals(RejectProperty))
                {
                    reader.Read();
                    reject = reader.GetString();
                }
                else
                {
                    hasPayload = true;
                    break;
                }
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            return false;
        }

        return index >= 0 && (reject is not null || (id is not null && hasPayload));
    }
}
