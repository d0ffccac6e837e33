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
        written["email"]!.GetValue<string>().Should().Be(TransformFixtures.PseudonymOf(new HmacKey(new byte[32]), "ada@example.org"));
        Encoding.UTF8.GetString(output.ToArray()).Should().NotContain("ada@example.org").And.NotContain("Main St");
    }

    [Fact]
    public void A_pretty_printed_record_is_written_as_the_compact_one_is()
    {
        const string Compact = """{"id":1,"a":{"b":[1,{"c":"x  y"}]},"t":[],"email":"x@y.z"}""";
        const string Pretty = "{\r\n  \"id\" : 1,\r\n  \"a\" : {\r\n    \"b\" : [ 1, { \"c\" : \"x  y\" } ]\r\n  },\n\t\"t\" : [ ],\r\n  \"email\" : \"x@y.z\"\r\n}";
        var profile = TransformFixtures.Parse("""{"dataset":"d","id":"id","anonymize":{"email":"hash"}}""");
        using var anonymizer = new RecordAnonymizer(profile, new HmacKey(new byte[32]));

        var compact = Written(anonymizer, Compact);
        var pretty = Written(anonymizer, Pretty);

        pretty.Should().Be(compact);
        pretty.Should().NotContain("\n").And.Contain("\"a\":{\"b\":[1,{\"c\":\"x  y\"}]},\"t\":[]");
    }

    [Fact]
    public void A_number_hashes_to_one_pseudonym_whatever_its_spelling()
    {
        var profile = TransformFixtures.Parse("""{"dataset":"d","id":"id","anonymize":{"n":"hash","m":"mask"}}""");
        using var anonymizer = new RecordAnonymizer(profile, new HmacKey(new byte[32]));

        var plain = Written(anonymizer, """{"id":1,"n":100,"m":123456}""");

        Written(anonymizer, """{"id":1,"n":1e2,"m":1.23456E+5}""").Should().Be(plain);
        Written(anonymizer, """{"id":1,"n":100.0,"m":123456.000}""").Should().Be(plain);
        plain.Should().Contain(TransformFixtures.PseudonymOf(new HmacKey(new byte[32]), "100")).And.Contain("\"**3456\"");
    }

    private static string Written(RecordAnonymizer anonymizer, string record)
    {
        using var document = JsonDocument.Parse(record);
        anonymizer.Check(document.RootElement).Should().BeNull();
        var output = new MemoryStream();
        using (var writer = new Utf8JsonWriter(output, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            anonymizer.Write(document.RootElement, writer);
        }

        return Encoding.UTF8.GetString(output.ToArray());
    }
}
