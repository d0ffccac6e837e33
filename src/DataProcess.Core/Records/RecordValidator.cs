using System.Text.Json;
using System.Text.Json.Nodes;
using DataProcess.Core.Profiles;

namespace DataProcess.Core.Records;

/// <summary>The outcome of checking one record: an object with a usable id, or a reason to reject it.</summary>
public readonly record struct ValidatedRecord(JsonObject? Record, string? Id, string? Reject)
{
    public bool IsRejected => Reject is not null;
}

/// <summary>
/// Record-level checks shared by every stage, so that Enrichment and Anonymization reject exactly the
/// same records and their outputs stay in step. Reasons name fields, never values.
/// </summary>
public static class RecordValidator
{
    private static readonly JsonDocumentOptions ParseOptions = new()
    {
        MaxDepth = 64,

        // Two properties of one name are refused: a consumer that keeps the other one would see a
        // value that anonymization never touched.
        AllowDuplicateProperties = false,
    };

    public static ValidatedRecord Validate(ReadOnlySpan<byte> utf8Json, Profile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(utf8Json, documentOptions: ParseOptions);
        }
        catch (JsonException)
        {
            // The reader already proved the JSON well-formed, so only the duplicate check can fail here.
            return Rejected(null, "the record has two properties with the same name");
        }

        if (node is not JsonObject record)
        {
            return Rejected(null, $"the record is {Describe(node)}, not an object");
        }

        var idNode = Navigate(record, profile.Id, out var idPresent);
        if (!idPresent)
        {
            return Rejected(null, $"the id '{profile.Id}' is missing");
        }

        string id;
        switch (idNode)
        {
            case null:
                return Rejected(null, $"the id '{profile.Id}' is null");
            case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                id = value.GetValue<string>();
                if (string.IsNullOrWhiteSpace(id))
                {
                    return Rejected(null, $"the id '{profile.Id}' is empty");
                }

                break;
            case JsonValue value when value.GetValueKind() == JsonValueKind.Number:
                id = value.ToJsonString();
                break;
            default:
                return Rejected(null, $"the id '{profile.Id}' is {Describe(idNode)}; it must be a string or a number");
        }

        if (id.Length > Profile.MaxIdLength)
        {
            return Rejected(null, $"the id '{profile.Id}' is longer than {Profile.MaxIdLength} characters");
        }

        foreach (var required in profile.Require)
        {
            var value = Navigate(record, required, out var present);
            if (!present)
            {
                return Rejected(id, $"the required field '{required}' is missing");
            }

            if (value is null)
            {
                return Rejected(id, $"the required field '{required}' is null");
            }
        }

        return new ValidatedRecord(record, id, null);
    }

    /// <summary>Follows a path without wildcards. <paramref name="present"/> tells a missing field from a JSON null.</summary>
    internal static JsonNode? Navigate(JsonObject record, FieldPath path, out bool present)
    {
        JsonNode? current = record;
        foreach (var segment in path.Segments)
        {
            if (current is not JsonObject obj || !obj.TryGetPropertyValue(segment.Name!, out current))
            {
                present = false;
                return null;
            }
        }

        present = true;
        return current;
    }

    internal static string Describe(JsonNode? node) => node switch
    {
        null => "null",
        JsonObject => "an object",
        JsonArray => "an array",
        _ => node.GetValueKind() switch
        {
            JsonValueKind.String => "a string",
            JsonValueKind.Number => "a number",
            JsonValueKind.True or JsonValueKind.False => "a boolean",
            _ => "null",
        },
    };

    private static ValidatedRecord Rejected(string? id, string reason) => new(null, id, reason);
}
