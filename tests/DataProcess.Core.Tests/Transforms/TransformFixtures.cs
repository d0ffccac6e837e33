using System.Text;
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

    public static Profile Parse(string json) => ProfileLoader.Parse(Encoding.UTF8.GetBytes(json), "test.json");

    public static JsonObject Record(string json) => JsonNode.Parse(json)!.AsObject();

    /// <summary>Runs one anonymize rule on the record; returns the reason (null on success).</summary>
    public static string? Anonymize(JsonObject record, string path, string method)
    {
        using var anonymizer = new RecordAnonymizer(ProfileAnonymizing(path, method), ZeroKey);
        return anonymizer.Apply(record);
    }
}
