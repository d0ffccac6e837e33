using System.Text.Json;
using DataProcess.Core.Profiles;

namespace DataProcess.Core.Records;

/// <summary>What the stages validate: the record as a pooled document to dispose, or a reason to reject it.</summary>
internal readonly record struct ValidatedDocument(JsonDocument? Document, string? Id, string? Reject);

/// <summary>
/// Record-level checks shared by every stage, so that Enrichment and Anonymization reject exactly the
/// same records and their outputs stay in step. Reasons name fields, never values.
/// </summary>
internal static class RecordValidator
{
    private static readonly JsonDocumentOptions ParseOptions = new()
    {
        MaxDepth = 64,

        // Two properties of one name are refused: a consumer that keeps the other one would see a
        // value that anonymization never touched.
        AllowDuplicateProperties = false,
    };

    /// <summary>
    /// The stages' validation: the record as a pooled <see cref="JsonDocument"/> (no node tree) that the caller
    /// disposes, or a reason. <paramref name="utf8Json"/> must stay unchanged while the document is in use.
    /// </summary>
    internal static ValidatedDocument ValidateDocument(ReadOnlyMemory<byte> utf8Json, Profile profile)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8Json, ParseOptions);
        }
        catch (JsonException)
        {
            // The reader already proved the JSON well-formed, so only the duplicate check can fail here.
            return new ValidatedDocument(null, null, "the record has two properties with the same name");
        }

        var reason = Check(document.RootElement, profile, out var id);
        if (reason is not null)
        {
            document.Dispose();
            return new ValidatedDocument(null, id, reason);
        }

        return new ValidatedDocument(document, id, null);
    }

    private static string? Check(JsonElement record, Profile profile, out string? id)
    {
        id = null;
        if (record.ValueKind != JsonValueKind.Object)
        {
            return $"the record is {Describe(record.ValueKind)}, not an object";
        }

        if (!Navigate(record, profile.Id, out var idValue))
        {
            return $"the id '{profile.Id}' is missing";
        }

        string value;
        switch (idValue.ValueKind)
        {
            case JsonValueKind.Null:
                return $"the id '{profile.Id}' is null";
            case JsonValueKind.String:
                value = idValue.GetString()!;
                if (string.IsNullOrWhiteSpace(value))
                {
                    return $"the id '{profile.Id}' is empty";
                }

                break;
            case JsonValueKind.Number:
                // One id per number value: 1e2 and 100 are the same record.
                value = Transforms.NumberText.Canonical(System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(idValue));
                break;
            default:
                return $"the id '{profile.Id}' is {Describe(idValue.ValueKind)}; it must be a string or a number";
        }

        if (value.Length > Profile.MaxIdLength)
        {
            return $"the id '{profile.Id}' is longer than {Profile.MaxIdLength} characters";
        }

        id = value;
        foreach (var required in profile.Require)
        {
            if (!Navigate(record, required, out var requiredValue))
            {
                return $"the required field '{required}' is missing";
            }

            if (requiredValue.ValueKind == JsonValueKind.Null)
            {
                return $"the required field '{required}' is null";
            }
        }

        return null;
    }

    /// <summary>Follows a path without wildcards; false when a step is missing (a JSON null is present).</summary>
    internal static bool Navigate(JsonElement record, FieldPath path, out JsonElement value)
    {
        value = record;
        foreach (var segment in path.Segments)
        {
            if (value.ValueKind != JsonValueKind.Object || !value.TryGetProperty(segment.Name!, out value))
            {
                value = default;
                return false;
            }
        }

        return true;
    }

    internal static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };

}
