using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using DataProcess.Core.Ports;
using DataProcess.Core.Transforms;

namespace DataProcess.Core.Tests.Transforms;

public sealed class RecordAnonymizerRawTests
{
    [Fact]
    public void Untouched_values_keep_their_content_whatever_their_escaping()
    {
        const string Source = """
            {"id":"c\u00e9-1","email":"ada@example.org","notes":"line\nbreak \"quoted\" caf\u00e9 漢字 \ud83d\ude00 \u0001",
             "address":{"street":"Main St 1","geo":{"lat":1.5e3,"lng":-0.000}},"tags":["a","\u0062"],"friends":[{"name":"x","phone":"+1 555"}],
             "n\u0061me":"Ada"}
            """;
        var profile = TransformFixtures.Parse("""{"dataset":"d","id":"id","anonymize":{"email":"hash","address.street":"redact","friends[*].phone":"mask"}}""");
        using var anonymizer = new RecordAnonymizer(profile, new HmacKey(new byte[32]));
        using var document = JsonDocument.Parse(Source);

        anonymizer.Check(document.RootElement).Should().BeNull();
        var output = new MemoryStream();
        using (var writer = new Utf8JsonWriter(output, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            anonymizer.Write(document.RootElement, writer);
        }

        var written = JsonNode.Parse(output.ToArray())!.AsObject();
        var expected = JsonNode.Parse(Source)!.AsObject();
        foreach (var untouched in new[] { "id", "notes", "tags", "name" })
        {
            JsonNode.DeepEquals(written[untouched], expected[untouched]).Should().BeTrue(untouched);
        }

        JsonNode.DeepEquals(written["address"]!["geo"], expected["address"]!["geo"]).Should().BeTrue();
        written["address"]!.AsObject().ContainsKey("street").Should().BeFalse();
        written["friends"]![0]!["phone"]!.GetValue<string>().Should().Be("** 555");
        written["email"]!.GetValue<string>().Should().Be(Pseudonym.Compute(new HmacKey(new byte[32]), "ada@example.org"));
        Encoding.UTF8.GetString(output.ToArray()).Should().NotContain("ada@example.org").And.NotContain("Main St");
    }
}
