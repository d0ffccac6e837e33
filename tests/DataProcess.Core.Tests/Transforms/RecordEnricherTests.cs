using System.Text.Json.Nodes;
using DataProcess.Core.Transforms;
using static DataProcess.Core.Tests.Transforms.TransformFixtures;

namespace DataProcess.Core.Tests.Transforms;

public sealed class RecordEnricherTests
{
    private static readonly DateTimeOffset AsOf = new(2024, 6, 15, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void WriteFields_writes_every_rule_in_profile_order_without_touching_the_record()
    {
        var profile = Parse("""
            { "dataset": "customers", "id": "id", "anonymize": { "email": "hash" },
              "enrich": { "z_domain": { "fn": "email-domain", "from": "email" },
                          "age": { "fn": "age", "from": "birthDate" },
                          "born": { "fn": "year", "from": "birthDate" },
                          "country": { "fn": "country-name", "from": "address.country" },
                          "seen_utc": { "fn": "utc", "from": "lastSeen" },
                          "a_city": { "fn": "lowercase", "from": "address.city" } } }
            """);
        const string json = """{"id":1,"email":"Alice@Example.COM","birthDate":"1990-06-15","address":{"country":"de","city":"BERLIN"},"lastSeen":"2024-06-01T10:00:00+02:00"}""";
        var record = Record(json);

        var fields = Enrich(new RecordEnricher(profile, AsOf), record);

        fields.ToJsonString().Should().Be(
            """{"z_domain":"example.com","age":34,"born":1990,"country":"Germany","seen_utc":"2024-06-01T08:00:00Z","a_city":"berlin"}""");
        JsonNode.DeepEquals(record, JsonNode.Parse(json)).Should().BeTrue();
    }

    [Fact]
    public void WriteFields_writes_an_empty_object_when_the_profile_has_no_enrich_rules()
    {
        var fields = Enrich(new RecordEnricher(Parse("""{ "dataset": "t", "id": "id" }"""), AsOf), Record("""{"id":1}"""));

        fields.ToJsonString().Should().Be("{}");
    }

    [Theory]
    [InlineData("email-domain")]
    [InlineData("age")]
    [InlineData("year")]
    [InlineData("country-name")]
    [InlineData("utc")]
    [InlineData("lowercase")]
    public void A_missing_or_null_source_is_written_as_null(string function)
    {
        var enricher = new RecordEnricher(ProfileEnriching("out", function, "a.v"), AsOf);

        foreach (var json in new[] { "{}", """{"a":null}""", """{"a":{"v":null}}""", """{"a":"text"}""", """{"a":[{"v":"x"}]}""" })
        {
            var fields = Enrich(enricher, Record(json));

            fields.ToJsonString().Should().Be("""{"out":null}""", "the record was {0}", json);
        }
    }

    [Theory]
    [InlineData("email-domain")]
    [InlineData("age")]
    [InlineData("year")]
    [InlineData("country-name")]
    [InlineData("utc")]
    [InlineData("lowercase")]
    public void A_value_of_the_wrong_type_is_written_as_null(string function)
    {
        foreach (var value in new[] { "true", "{\"x\":1}", "[1]" })
        {
            EnrichOne(function, $$"""{"v":{{value}}}""").Should().BeNull("the value was {0}", value);
        }
    }

    [Theory]
    [InlineData("alice@example.com", "example.com")]
    [InlineData("Alice@Mail.Example.CO.UK", "mail.example.co.uk")]
    [InlineData("\"a@b\"@weird.example.org", "weird.example.org")]
    [InlineData("  bob@example.com  ", "example.com")]
    [InlineData("jürgen@müller.de", "müller.de")]
    public void EmailDomain_is_the_lowercased_text_after_the_last_at_sign(string email, string domain)
    {
        EnrichOne("email-domain", $$"""{"v":"{{email.Replace("\"", "\\\"", StringComparison.Ordinal)}}"}""")!.GetValue<string>().Should().Be(domain);
    }

    [Theory]
    [InlineData("no-at-sign.example.com")]
    [InlineData("alice@localhost")]
    [InlineData("alice@")]
    [InlineData("alice@exa mple.com")]
    [InlineData("alice@.example.com")]
    [InlineData("alice@example.com.")]
    [InlineData("alice@example..com")]
    [InlineData("Alice <alice@example.com>")]
    [InlineData("")]
    public void EmailDomain_is_null_when_the_text_does_not_end_in_a_domain(string email)
    {
        EnrichOne("email-domain", $$"""{"v":"{{email}}"}""").Should().BeNull();
    }

    [Fact]
    public void EmailDomain_of_a_number_is_null()
    {
        EnrichOne("email-domain", """{"v":12.5}""").Should().BeNull();
    }

    [Theory]
    [InlineData("1990-06-14", 34)]
    [InlineData("1990-06-15", 34)]
    [InlineData("1990-06-16", 33)]
    [InlineData("1990-12-31", 33)]
    [InlineData("2024-06-15", 0)]
    [InlineData("2024-06-15T11:59:59Z", 0)]
    [InlineData("Mon, 05 Jan 1998 15:59:20 GMT", 26)]
    public void Age_counts_whole_years_up_to_the_reference_date(string birthDate, int age)
    {
        EnrichOne("age", $$"""{"v":"{{birthDate}}"}""", AsOf)!.GetValue<int>().Should().Be(age);
    }

    [Theory]
    [InlineData("2001-02-28", 0)]
    [InlineData("2001-03-01", 1)]
    [InlineData("2003-02-28", 2)]
    [InlineData("2003-03-01", 3)]
    [InlineData("2004-02-28", 3)]
    [InlineData("2004-02-29", 4)]
    public void Age_of_a_leap_day_birthday_counts_from_the_first_of_March_in_other_years(string today, int age)
    {
        var asOf = DateTimeOffset.Parse(today + "T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture);

        EnrichOne("age", """{"v":"2000-02-29"}""", asOf)!.GetValue<int>().Should().Be(age);
    }

    [Theory]
    [InlineData("\"2024-06-16\"")]
    [InlineData("\"2024-06-15T12:00:01Z\"")]
    [InlineData("\"2090-01-01\"")]
    [InlineData("\"01/02/2003\"")]
    [InlineData("\"not a date\"")]
    public void Age_is_null_for_a_future_or_unrecognisable_date(string value)
    {
        EnrichOne("age", $$"""{"v":{{value}}}""", AsOf).Should().BeNull();
    }

    [Fact]
    public void Age_reads_epoch_seconds()
    {
        EnrichOne("age", """{"v":884015960}""", AsOf)!.GetValue<int>().Should().Be(26);
    }

    [Theory]
    [InlineData("\"1998-01-05\"", 1998)]
    [InlineData("\"Wed Oct 10 20:19:24 +0000 2018\"", 2018)]
    [InlineData("\"05.01.1998\"", 1998)]
    [InlineData("884015960123", 1998)]
    public void Year_is_the_year_of_the_date_as_a_number(string value, int year)
    {
        EnrichOne("year", $$"""{"v":{{value}}}""")!.GetValue<int>().Should().Be(year);
    }

    [Fact]
    public void Year_of_an_unrecognisable_date_is_null()
    {
        EnrichOne("year", """{"v":"01/02/2003"}""").Should().BeNull();
    }

    [Theory]
    [InlineData("DE", "Germany")]
    [InlineData("us", "United States")]
    [InlineData(" gb ", "United Kingdom")]
    public void CountryName_is_the_English_name_of_the_code(string code, string name)
    {
        EnrichOne("country-name", $$"""{"v":"{{code}}"}""")!.GetValue<string>().Should().Be(name);
    }

    [Theory]
    [InlineData("\"XX\"")]
    [InlineData("\"Germany\"")]
    [InlineData("49")]
    public void CountryName_of_an_unknown_code_is_null(string value)
    {
        EnrichOne("country-name", $$"""{"v":{{value}}}""").Should().BeNull();
    }

    [Theory]
    [InlineData("\"1998-01-05T15:59:20+02:00\"", "1998-01-05T13:59:20Z")]
    [InlineData("\"1998-01-05T15:59:20-0530\"", "1998-01-05T21:29:20Z")]
    [InlineData("\"1998-01-05T23:30:00-01:00\"", "1998-01-06T00:30:00Z")]
    [InlineData("\"1998-01-05\"", "1998-01-05T00:00:00Z")]
    [InlineData("\"1998-01-05T15:59:20.120Z\"", "1998-01-05T15:59:20.12Z")]
    [InlineData("\"1998-01-05T15:59:20.1234567+01:00\"", "1998-01-05T14:59:20.1234567Z")]
    [InlineData("\"Mon, 05 Jan 1998 15:59:20 GMT\"", "1998-01-05T15:59:20Z")]
    [InlineData("\"Wed Oct 10 20:19:24 +0200 2018\"", "2018-10-10T18:19:24Z")]
    [InlineData("884015960", "1998-01-05T15:59:20Z")]
    [InlineData("884015960123", "1998-01-05T15:59:20.123Z")]
    public void Utc_normalises_a_timestamp_to_ISO_8601_UTC(string value, string expected)
    {
        EnrichOne("utc", $$"""{"v":{{value}}}""")!.GetValue<string>().Should().Be(expected);
    }

    [Fact]
    public void Utc_of_an_unrecognisable_date_is_null()
    {
        EnrichOne("utc", """{"v":"31/12/2020"}""").Should().BeNull();
    }

    [Theory]
    [InlineData("\"MiXeD Case ÄÖÜ\"", "mixed case äöü")]
    [InlineData("\"already lower\"", "already lower")]
    [InlineData("42", "42")]
    [InlineData("1.50", "1.5")]
    [InlineData("1e2", "100")]
    public void Lowercase_lowercases_a_string_and_gives_a_number_as_its_canonical_text(string value, string expected)
    {
        EnrichOne("lowercase", $$"""{"v":{{value}}}""")!.GetValue<string>().Should().Be(expected);
    }

    [Fact]
    public void Lowercase_handles_text_longer_than_the_stack_buffer()
    {
        var text = new string('A', 1000);

        EnrichOne("lowercase", $$"""{"v":"{{text}}"}""")!.GetValue<string>().Should().Be(new string('a', 1000));
    }

    [Fact]
    public void Enrichment_reads_a_nested_source()
    {
        EnrichOne("country-name", """{"v":"FR"}""")!.GetValue<string>().Should().Be("France");

        var enricher = new RecordEnricher(ProfileEnriching("c", "country-name", "address.geo.country"), AsOf);
        Enrich(enricher, Record("""{"address":{"geo":{"country":"it"}}}""")).ToJsonString().Should().Be("""{"c":"Italy"}""");
    }
}
