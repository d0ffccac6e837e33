using System.Text;
using DataProcess.Core.Profiles;

namespace DataProcess.Core.Tests.Profiles;

public sealed class ProfileHashTests
{
    private const string Profile = """
        {"dataset":"customers","records":"$.result","id":"id","require":["email","name"],
         "anonymize":{"email":"hash","phone":"mask","friends[*].phone":"redact"},
         "enrich":{"domain":{"fn":"email-domain","from":"email"},"age":{"fn":"age","from":"birthDate"}},
         "maxRejectRatio":0.5}
        """;

    [Theory]
    [InlineData("""
        {
          "maxRejectRatio": 5e-1,
          "enrich": { "age": { "from": "birthDate", "fn": "age" }, "domain": { "fn": "email-domain", "from": "email" } },
          "anonymize": { "friends[*].phone": "redact", "phone": "mask", "email": "hash" },
          "require": [ "name", "email" ],
          "id": "id", "records": "$.result", "dataset": "customers"
        }
        """)]
    [InlineData("""{"dataset":"customers","records":"$.result","id":"id","require":["email","name"],"anonymize":{"email":"hash","phone":"mask","friends[*].phone":"redact"},"enrich":{"domain":{"fn":"email-domain","from":"email"},"age":{"fn":"age","from":"birthDate"}},"maxRejectRatio":0.50}""")]
    public void Reordering_keys_and_rules_whitespace_and_number_spelling_keep_the_hash(string same)
    {
        Hash(same).Should().Be(Hash(Profile)).And.MatchRegex("^[0-9a-f]{64}$");
    }

    [Theory]
    [InlineData("\"customers\"", "\"orders\"")]
    [InlineData("\"$.result\"", "\"$.data\"")]
    [InlineData("\"id\":\"id\"", "\"id\":\"key\"")]
    [InlineData("[\"email\",\"name\"]", "[\"email\"]")]
    [InlineData("\"phone\":\"mask\"", "\"phone\":\"redact\"")]
    [InlineData("\"friends[*].phone\"", "\"friends.phone\"")]
    [InlineData("\"from\":\"birthDate\"", "\"from\":\"born\"")]
    [InlineData("\"fn\":\"age\"", "\"fn\":\"year\"")]
    [InlineData("0.5}", "0.25}")]
    [InlineData(",\n \"maxRejectRatio\":0.5", "")]
    public void Any_change_to_a_rule_changes_the_hash(string from, string to)
    {
        var changed = Profile.Replace(from, to, StringComparison.Ordinal);
        changed.Should().NotBe(Profile, "the test changes something");

        Hash(changed).Should().NotBe(Hash(Profile));
    }

    [Fact]
    public void An_absent_records_path_and_null_are_the_same_and_differ_from_a_top_level_array()
    {
        Hash("""{"dataset":"d","id":"id"}""").Should().Be(Hash("""{"dataset":"d","id":"id","records":null}"""))
            .And.NotBe(Hash("""{"dataset":"d","id":"id","records":"$"}"""));
    }

    [Fact]
    public void The_canonical_form_is_the_documented_compact_json()
    {
        var profile = ProfileLoader.Parse(Encoding.UTF8.GetBytes("""{"dataset":"customers","records":"$.result","id":"id","require":["email"],"anonymize":{"friends[*].phone":"redact","email":"hash"},"enrich":{"age":{"fn":"age","from":"birthDate"}}}"""), "p.json");

        Encoding.UTF8.GetString(ProfileHash.CanonicalForm(profile)).Should().Be(
            """{"v":1,"dataset":"customers","records":["result"],"id":["id"],"require":[["email"]],"anonymize":[[["email"],"hash"],[["friends",null,"phone"],"redact"]],"enrich":[["age","age",["birthDate"]]],"maxRejectRatio":null}""");
    }

    private static string Hash(string json) => ProfileLoader.Parse(Encoding.UTF8.GetBytes(json), "p.json").Hash;
}
