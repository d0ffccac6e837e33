using System.Text;
using DataProcess.Core.Profiles;

namespace DataProcess.Core.Tests.Profiles;

public sealed class ProfileLoaderTests
{
    private const string Complete = """
        {
          "dataset": "customers",
          "records": "$.result",
          "id": "id",
          "require": ["email"],
          "anonymize": { "email": "hash", "name": "hash", "phone": "mask",
                         "birthDate": "year", "ip": "ip-prefix", "friends[*].phone": "redact" },
          "enrich": { "email_domain": { "fn": "email-domain", "from": "email" },
                      "age": { "fn": "age", "from": "birthDate" } }
        }
        """;

    [Fact]
    public void Loads_the_profile_of_the_design_brief()
    {
        var profile = Parse(Complete);

        profile.Dataset.Should().Be("customers");
        profile.Records.Segments.Should().Equal("result");
        profile.Id.Text.Should().Be("id");
        profile.Require.Select(p => p.Text).Should().Equal("email");
        profile.Anonymize.Select(r => (r.Path.Text, r.Method)).Should().Equal(
            ("email", AnonymizationMethod.Hash),
            ("name", AnonymizationMethod.Hash),
            ("phone", AnonymizationMethod.Mask),
            ("birthDate", AnonymizationMethod.Year),
            ("ip", AnonymizationMethod.IpPrefix),
            ("friends[*].phone", AnonymizationMethod.Redact));
        profile.Enrich.Select(r => (r.Name, r.Method, r.From.Text)).Should().Equal(
            ("email_domain", EnrichmentMethod.EmailDomain, "email"),
            ("age", EnrichmentMethod.Age, "birthDate"));
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("$", new string[0])]
    [InlineData("$.data.items", new[] { "data", "items" })]
    public void Understands_every_records_location(string? records, string[]? segments)
    {
        var json = records is null ? """{"dataset":"d","id":"id"}""" : $$"""{"dataset":"d","id":"id","records":"{{records}}"}""";

        Parse(json).Records.Segments.Should().BeEquivalentTo(segments, o => o.WithStrictOrdering());
    }

    [Theory]
    [InlineData("""[]""", "must be a JSON object")]
    [InlineData("""{"dataset":"d","id":"id",}""", "not valid JSON at line 1")]
    [InlineData("""{"id":"id"}""", "dataset: is required")]
    [InlineData("""{"dataset":"","id":"id"}""", "dataset: must be 1-63 characters")]
    [InlineData("""{"dataset":"x'; drop table records;--","id":"id"}""", "dataset: must be 1-63 characters")]
    [InlineData("""{"dataset":"Customers","id":"id"}""", "dataset: must be 1-63 characters")]
    [InlineData("""{"dataset":7,"id":"id"}""", "dataset: must be a string")]
    [InlineData("""{"dataset":"d","id":"id","maxRejectRatio":1.01}""", "maxRejectRatio: must be a number from 0 to 1")]
    [InlineData("""{"dataset":"d","id":"id","maxRejectRatio":"0.1"}""", "maxRejectRatio: must be a number from 0 to 1")]
    [InlineData("""{"dataset":"d"}""", "id: is required")]
    [InlineData("""{"dataset":"d","id":"tags[*]"}""", "id: 'tags[*]' has [*]")]
    [InlineData("""{"dataset":"d","id":""}""", "id: bad path: the path is empty")]
    [InlineData("""{"dataset":"d","id":"a..b"}""", "id: bad path: 'a..b' has an empty name")]
    [InlineData("""{"dataset":"d","id":"id","records":"result"}""", "records: 'result' is not")]
    [InlineData("""{"dataset":"d","id":"id","records":"$.a[*]"}""", "records: '$.a[*]' is not")]
    [InlineData("""{"dataset":"d","id":"id","anonymise":{}}""", "anonymise: unknown field")]
    [InlineData("""{"dataset":"d","id":"id","anonymize":{"email":"hsah"}}""", "anonymize.email: unknown method 'hsah'")]
    [InlineData("""{"dataset":"d","id":"id","anonymize":{"email":1}}""", "anonymize.email: unknown method (number)")]
    [InlineData("""{"dataset":"d","id":"id","anonymize":{"a[0].b":"hash"}}""", "anonymize.a[0].b: bad path: 'a[0].b' has an unsupported index")]
    [InlineData("""{"dataset":"d","id":"id","anonymize":{"a.":"hash"}}""", "anonymize.a.: bad path")]
    [InlineData("""{"dataset":"d","id":"id","anonymize":{"$.a":"hash"}}""", "anonymize.$.a: bad path")]
    [InlineData("""{"dataset":"d","id":"id","anonymize":{"id":"hash"}}""", "anonymize.id: would anonymize the record id")]
    [InlineData("""{"dataset":"d","id":"user.id","anonymize":{"user":"redact"}}""", "anonymize.user: would anonymize the record id")]
    [InlineData("""{"dataset":"d","id":"id","anonymize":{"a":"hash","a.b":"mask"}}""", "anonymize.a.b: overlaps anonymize.a")]
    [InlineData("""{"dataset":"d","id":"id","anonymize":{"a":"hash","a":"mask"}}""", "anonymize: 'a' is given twice")]
    [InlineData("""{"dataset":"d","id":"id","require":"email"}""", "require: must be an array")]
    [InlineData("""{"dataset":"d","id":"id","require":["a","a"]}""", "require[1]: 'a' is listed twice")]
    [InlineData("""{"dataset":"d","id":"id","require":["a[*]"]}""", "require[0]: 'a[*]' has [*]")]
    [InlineData("""{"dataset":"d","id":"id","enrich":{"x":{"fn":"nope","from":"a"}}}""", "enrich.x.fn: unknown function 'nope'")]
    [InlineData("""{"dataset":"d","id":"id","enrich":{"x":{"from":"a"}}}""", "enrich.x.fn: is required")]
    [InlineData("""{"dataset":"d","id":"id","enrich":{"x":{"fn":"year"}}}""", "enrich.x.from: is required")]
    [InlineData("""{"dataset":"d","id":"id","enrich":{"x":{"fn":"year","from":"a","to":"b"}}}""", "enrich.x.to: unknown field")]
    [InlineData("""{"dataset":"d","id":"id","enrich":{"x":{"fn":"year","from":"a[*]"}}}""", "enrich.x.from: 'a[*]' has [*]")]
    [InlineData("""{"dataset":"d","id":"id","enrich":{"1x":{"fn":"year","from":"a"}}}""", "enrich.1x: the name must be")]
    [InlineData("""{"dataset":"d","id":"id","enrich":{"id":{"fn":"year","from":"a"}}}""", "enrich.id: collides with the id field")]
    [InlineData("""{"dataset":"d","id":"id","anonymize":{"email":"hash"},"enrich":{"email":{"fn":"email-domain","from":"email"}}}""", "enrich.email: collides with the anonymized field 'email'")]
    [InlineData("""{"dataset":"d","id":"id","require":["name"],"enrich":{"name":{"fn":"lowercase","from":"n"}}}""", "enrich.name: collides with the required field")]
    [InlineData("""{"dataset":"d","id":"id","anonymize":{"email":"hash"},"enrich":{"e":{"fn":"lowercase","from":"email"}}}""", "enrich.e: lowercase would copy 'email' unanonymized")]
    [InlineData("""{"dataset":"d","id":"id","anonymize":{"user":"redact"},"enrich":{"seen":{"fn":"utc","from":"user.lastSeen"}}}""", "enrich.seen: utc would copy 'user.lastSeen' unanonymized")]
    public void Refuses_a_mistake_naming_the_field(string json, string expected)
    {
        var act = () => Parse(json);

        act.Should().Throw<ProfileException>().Which.Message.Should().StartWith("profile test.json: ").And.Contain(expected);
    }

    [Fact]
    public void Allows_reducing_functions_on_personal_fields()
    {
        var profile = Parse("""{"dataset":"d","id":"id","anonymize":{"email":"hash","birthDate":"year"},"enrich":{"domain":{"fn":"email-domain","from":"email"},"age":{"fn":"age","from":"birthDate"}}}""");

        profile.Enrich.Should().HaveCount(2);
    }

    [Fact]
    public void Refuses_a_missing_file_naming_it()
    {
        var act = () => ProfileLoader.LoadFile("/nonexistent/profile.json");

        act.Should().Throw<ProfileException>().Which.Message.Should().StartWith("profile /nonexistent/profile.json: cannot be read");
    }

    private static Profile Parse(string json) => ProfileLoader.Parse(Encoding.UTF8.GetBytes(json), "test.json");

    [Theory]
    [InlineData("""{"dataset":"d","id":"id"}""", null)]
    [InlineData("""{"dataset":"d","id":"id","maxRejectRatio":null}""", null)]
    [InlineData("""{"dataset":"d","id":"id","maxRejectRatio":0}""", 0.0)]
    [InlineData("""{"dataset":"d","id":"id","maxRejectRatio":0.05}""", 0.05)]
    [InlineData("""{"dataset":"d","id":"id","maxRejectRatio":1}""", 1.0)]
    public void Reads_the_maximum_reject_ratio(string json, double? expected)
    {
        Parse(json).MaxRejectRatio.Should().Be(expected);
    }
}
