using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DataProcess.Core.Ports;
using DataProcess.Core.Profiles;
using DataProcess.Core.Transforms;

namespace DataProcess.Core.Tests.Transforms;

internal static class TransformFixtures
{
    public static readonly HmacKey ZeroKey = new(new byte[32]);

    public static Profile ProfileAnonymizing(string path, string method) =>
        Parse($$"""{ "dataset": "test", "id": "id", "anonymize": { "{{path}}": "{{method}}" } }""");

    public static Profile ProfileEnriching(string name, string function, string from) =>
        Parse($$"""{ "dataset": "test", "id": "id", "enrich": { "{{name}}": { "fn": "{{function}}", "from": "{{from}}" } } }""");

    public static Profile Parse(string json) => ProfileLoader.Parse(Encoding.UTF8.GetBytes(json), "test.json");

    public static JsonObject Record(string json) => JsonNode.Parse(json)!.AsObject();

    /// <summary>Runs one anonymize rule on the record; returns the reason (null on success).</summary>
    public static string? Anonymize(JsonObject record, string path, string method)
    {
        using var anonymizer = new RecordAnonymizer(ProfileAnonymizing(path, method), ZeroKey);
        return anonymizer.Apply(record);
    }

    /// <summary>
    /// The stages' path on a node tree: the record as a parsed document, <c>Check</c>, then <c>Write</c>; on success
    /// the record's members are replaced by the written ones. Returns the reason (null on success).
    /// </summary>
    public static string? Apply(this RecordAnonymizer anonymizer, JsonObject record)
    {
        using var document = JsonDocument.Parse(record.ToJsonString());
        var reason = anonymizer.Check(document.RootElement);
        if (reason is not null)
        {
            return reason;
        }

        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            anonymizer.Write(document.RootElement, writer);
        }

        var written = JsonNode.Parse(buffer.WrittenSpan)!.AsObject();
        var properties = written.ToList();
        written.Clear();
        record.Clear();
        foreach (var (name, value) in properties)
        {
            record[name] = value;
        }

        return null;
    }

    /// <summary>The enrichment fields of the record, written by the stages' path (a parsed document).</summary>
    public static JsonObject Enrich(RecordEnricher enricher, JsonObject record)
    {
        using var document = JsonDocument.Parse(record.ToJsonString());
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            enricher.WriteFields(document.RootElement, writer);
        }

        return JsonNode.Parse(buffer.ToArray())!.AsObject();
    }

    /// <summary>The pseudonym <c>hash</c> gives <paramref name="text"/> under <paramref name="key"/>.</summary>
    public static string PseudonymOf(HmacKey key, string text)
    {
        using var hmac = new HMACSHA256(key.Bytes.ToArray());
        return Pseudonym.Compute(hmac, text);
    }

    public static FieldPath Path(string text) => FieldPath.TryParse(text, out var path, out var error) ? path : throw new FormatException(error);

    /// <summary>A JSON value as a parsed document holds it.</summary>
    public static JsonElement Element(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    /// <summary>The single enrichment field computed by <paramref name="function"/> from field "v".</summary>
    public static JsonNode? EnrichOne(string function, string recordJson, DateTimeOffset? asOf = null)
    {
        var enricher = new RecordEnricher(ProfileEnriching("out", function, "v"), asOf ?? new DateTimeOffset(2024, 6, 15, 12, 0, 0, TimeSpan.Zero));
        return Enrich(enricher, Record(recordJson))["out"];
    }
}
