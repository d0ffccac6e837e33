using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DataProcess.Differential.Tests.Reference;

public sealed record ReferenceReject(long Index, string? Id, string Reason);

public sealed record ReferenceRecord(long Index, string Id, JsonObject Consolidated);

/// <summary>What a run must produce: every record's fate in source order, and the rows that load.</summary>
public sealed class ReferenceRun
{
    public List<ReferenceRecord> Accepted { get; } = [];

    public List<ReferenceReject> Rejects { get; } = [];

    /// <summary>Total records read, accepted or rejected.</summary>
    public long Count { get; set; }

    /// <summary>The loaded rows: within one file the last record of an id wins.</summary>
    public Dictionary<string, JsonObject> Rows()
    {
        var rows = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        foreach (var record in Accepted)
        {
            rows[record.Id] = record.Consolidated;
        }

        return rows;
    }

    public long Duplicates => Accepted.Count - Rows().Count;
}

/// <summary>
/// The oracle: the whole record transformation, as simply as it can be written, on <see cref="JsonNode"/> trees.
/// It reads the file itself (the whole document at once: inputs here are small), checks each record, anonymizes a
/// copy, computes the enrichment from the raw record, and adds the fields at the top level. No pipeline code but the
/// primitives <see cref="ReferenceRules"/> names.
/// </summary>
public static class ReferencePipeline
{
    private static readonly JsonDocumentOptions Lenient = new() { MaxDepth = 1024, AllowDuplicateProperties = true };

    public static ReferenceRun Run(byte[] file, CaseProfile profile, Shape shape, byte[] key, DateTimeOffset asOf)
    {
        var run = new ReferenceRun();
        long index = 0;
        foreach (var record in Records(file, shape))
        {
            var outcome = Transform(record, profile, key, asOf);
            if (outcome.Reason is { } reason)
            {
                run.Rejects.Add(new ReferenceReject(index, outcome.Id, reason));
            }
            else
            {
                run.Accepted.Add(new ReferenceRecord(index, outcome.Id!, outcome.Record!));
            }

            index++;
        }

        run.Count = index;
        return run;
    }

    /// <summary>The records of the file, each as the text of one JSON value.</summary>
    public static IEnumerable<string> Records(byte[] file, Shape shape)
    {
        var text = Encoding.UTF8.GetString(file);
        if (text.StartsWith('\uFEFF'))
        {
            text = text[1..];
        }

        var ndjson = shape == Shape.Ndjson || (shape == Shape.DetectedArray && text.TrimStart(' ', '\t', '\r', '\n').StartsWith('{'));
        if (ndjson)
        {
            return text.Split('\n').Select(line => line.Trim(' ', '\t', '\r')).Where(line => line.Length > 0).ToList();
        }

        using var document = JsonDocument.Parse(text, Lenient);
        var array = document.RootElement;
        if (shape == Shape.ArrayAtPath)
        {
            foreach (var name in CaseProfile.RecordsPath)
            {
                array = array.GetProperty(name);
            }
        }

        return array.EnumerateArray().Select(e => e.GetRawText()).ToList();
    }

    public static (string? Id, string? Reason, JsonObject? Record) Transform(string recordJson, CaseProfile profile, byte[] key, DateTimeOffset asOf)
    {
        using (var document = JsonDocument.Parse(recordJson, Lenient))
        {
            if (HasDuplicateName(document.RootElement))
            {
                return (null, "the record has two properties with the same name", null);
            }
        }

        var node = JsonNode.Parse(recordJson, documentOptions: Lenient);
        if (node is not JsonObject record)
        {
            return (null, $"the record is {Kind(node)}, not an object", null);
        }

        var (id, idProblem) = Id(record, profile.Id);
        if (idProblem is not null)
        {
            return (null, idProblem, null);
        }

        foreach (var required in profile.Require)
        {
            if (!TryFind(record, required, out var value))
            {
                return (id, $"the required field '{required}' is missing", null);
            }

            if (value is null)
            {
                return (id, $"the required field '{required}' is null", null);
            }
        }

        foreach (var rule in profile.Anonymize)
        {
            foreach (var value in Select(record, Segments(rule.Path)))
            {
                if (Refusal(rule, value) is { } reason)
                {
                    return (id, reason, null);
                }
            }
        }

        var consolidated = (JsonObject)record.DeepClone();
        foreach (var rule in profile.Anonymize)
        {
            Apply(consolidated, Segments(rule.Path), rule, key);
        }

        foreach (var rule in profile.Enrich)
        {
            consolidated[rule.Name] = TryFind(record, rule.From, out var source) ? Enrich(rule.Function, source, asOf) : null;
        }

        return (id, null, consolidated);
    }

    private static (string? Id, string? Problem) Id(JsonObject record, string path)
    {
        if (!TryFind(record, path, out var value))
        {
            return (null, $"the id '{path}' is missing");
        }

        string id;
        switch (value?.GetValueKind())
        {
            case null:
                return (null, $"the id '{path}' is null");
            case JsonValueKind.String:
                id = value.GetValue<string>();
                if (id.Trim().Length == 0)
                {
                    return (null, $"the id '{path}' is empty");
                }

                break;
            case JsonValueKind.Number:
                id = ReferenceRules.NumberText(value.ToJsonString());
                break;
            default:
                return (null, $"the id '{path}' is {Kind(value)}; it must be a string or a number");
        }

        return id.Length > 256 ? (null, $"the id '{path}' is longer than 256 characters") : (id, null);
    }

    /// <summary>Why <paramref name="rule"/> cannot take <paramref name="value"/>, or null. Reasons name the field and the kind, never the value.</summary>
    private static string? Refusal(AnonymizeRule rule, JsonNode? value)
    {
        var kind = value?.GetValueKind() ?? JsonValueKind.Null;
        if (rule.Method == "redact" || kind == JsonValueKind.Null)
        {
            return null;
        }

        var scalar = kind is JsonValueKind.String or JsonValueKind.Number;
        var field = $"field '{rule.Path}'";
        return rule.Method switch
        {
            "hash" or "mask" => scalar ? null : $"{field} is {Kind(value)}; {rule.Method} expects a string or number",
            "year" => !scalar ? $"{field} is {Kind(value)}; year expects a date string or a Unix epoch number"
                : ReferenceRules.Date(value) is null ? $"{field} is not a recognisable date" : null,
            "ip-prefix" => kind != JsonValueKind.String ? $"{field} is {Kind(value)}; ip-prefix expects an IP address string"
                : ReferenceRules.IpPrefix(value!.GetValue<string>()) is null ? $"{field} is not a valid IPv4 or IPv6 address" : null,
            _ => throw new ArgumentException($"unknown method {rule.Method}", nameof(rule)),
        };
    }

    private static JsonNode? Anonymized(AnonymizeRule rule, JsonNode? value, byte[] key)
    {
        if (value is null)
        {
            return null;
        }

        var text = value.GetValueKind() == JsonValueKind.Number ? ReferenceRules.NumberText(value.ToJsonString()) : value.GetValue<string>();
        return rule.Method switch
        {
            "hash" => ReferenceRules.Hash(key, text),
            "mask" => ReferenceRules.Mask(text),
            "year" => ReferenceRules.Date(value)!.Value.Year,
            "ip-prefix" => ReferenceRules.IpPrefix(text),
            _ => throw new ArgumentException($"unknown method {rule.Method}", nameof(rule)),
        };
    }

    private static void Apply(JsonNode? container, string[] segments, AnonymizeRule rule, byte[] key)
    {
        var last = segments.Length == 1;
        if (segments[0] == "[*]")
        {
            if (container is not JsonArray array)
            {
                return;
            }

            if (last && rule.Method == "redact")
            {
                array.Clear();
                return;
            }

            for (var i = 0; i < array.Count; i++)
            {
                if (last)
                {
                    array[i] = Anonymized(rule, array[i], key);
                }
                else
                {
                    Apply(array[i], segments[1..], rule, key);
                }
            }

            return;
        }

        if (container is not JsonObject obj || !obj.TryGetPropertyValue(segments[0], out var child))
        {
            return;
        }

        if (!last)
        {
            Apply(child, segments[1..], rule, key);
        }
        else if (rule.Method == "redact")
        {
            obj.Remove(segments[0]);
        }
        else
        {
            obj[segments[0]] = Anonymized(rule, child, key);
        }
    }

    private static JsonNode? Enrich(string function, JsonNode? value, DateTimeOffset asOf)
    {
        var kind = value?.GetValueKind() ?? JsonValueKind.Null;
        var text = kind == JsonValueKind.String ? value!.GetValue<string>() : null;
        switch (function)
        {
            case "email-domain":
                return text is null ? null : ReferenceRules.EmailDomain(text);
            case "age":
                return ReferenceRules.Date(value) is { } born ? ReferenceRules.Age(born, asOf) : null;
            case "year":
                return ReferenceRules.Date(value)?.Year;
            case "country-name":
                return text is null ? null : DataProcess.Core.Transforms.Countries.EnglishName(text.Trim());
            case "utc":
                return ReferenceRules.Date(value) is { } instant ? ReferenceRules.Utc(instant) : null;
            case "lowercase":
                return kind switch
                {
                    JsonValueKind.String => text!.ToLowerInvariant(),
                    JsonValueKind.Number => ReferenceRules.NumberText(value!.ToJsonString()),
                    _ => null,
                };
            default:
                throw new ArgumentException($"unknown function {function}", nameof(function));
        }
    }

    /// <summary>Every value a path names, in document order; <c>[*]</c> on a non-array and a missing step name nothing.</summary>
    private static IEnumerable<JsonNode?> Select(JsonNode? container, string[] segments)
    {
        var children = new List<JsonNode?>();
        if (segments[0] == "[*]" && container is JsonArray array)
        {
            children.AddRange(array);
        }
        else if (segments[0] != "[*]" && container is JsonObject obj && obj.TryGetPropertyValue(segments[0], out var child))
        {
            children.Add(child);
        }

        return segments.Length == 1 ? children : children.SelectMany(c => Select(c, segments[1..]));
    }

    private static bool TryFind(JsonObject record, string path, out JsonNode? value)
    {
        JsonNode? current = record;
        foreach (var name in path.Split('.'))
        {
            if (current is not JsonObject obj || !obj.TryGetPropertyValue(name, out current))
            {
                value = null;
                return false;
            }
        }

        value = current;
        return true;
    }

    /// <summary><c>friends[*].phone</c> → friends, [*], phone.</summary>
    public static string[] Segments(string path) =>
        path.Replace("[*]", ".[*]", StringComparison.Ordinal).Split('.', StringSplitOptions.RemoveEmptyEntries);

    private static bool HasDuplicateName(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => element.EnumerateObject().GroupBy(p => p.Name, StringComparer.Ordinal).Any(g => g.Count() > 1)
            || element.EnumerateObject().Any(p => HasDuplicateName(p.Value)),
        JsonValueKind.Array => element.EnumerateArray().Any(HasDuplicateName),
        _ => false,
    };

    private static string Kind(JsonNode? node) => (node?.GetValueKind() ?? JsonValueKind.Null) switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };
}
