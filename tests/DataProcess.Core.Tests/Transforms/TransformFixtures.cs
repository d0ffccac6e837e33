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

    public static JsonObject Enrich(RecordEnricher enricher, JsonObject record)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            enricher.WriteFields(record, writer);
        }

        return JsonNode.Parse(buffer.ToArray())!.AsObject();
    }

    /// <summary>The single enrichment field computed by <paramref name="function"/> from field "v".</summary>
    public static JsonNode? EnrichOne(string function, string recordJson, DateTimeOffset? asOf = null)
    {
        var enricher = new RecordEnricher(ProfileEnriching("out", function, "v"), asOf ?? new DateTimeOffset(2024, 6, 15, 12, 0, 0, TimeSpan.Zero));
        return Enrich(enricher, Record(recordJson))["out"];
    }
}
