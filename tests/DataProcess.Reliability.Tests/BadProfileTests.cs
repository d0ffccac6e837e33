using DataProcess.Testing;

namespace DataProcess.Reliability.Tests;

/// <summary>
/// Matrix section 3: a bad profile is refused before anything is read or recorded: exit 1, one <c>error:</c> line
/// naming the profile and the field, and the database untouched (not even the <c>dataprocess</c> schema exists).
/// </summary>
public sealed class BadProfileTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>, IDisposable
{
    private readonly CliHarness _cli = new();

    [Fact]
    public Task An_unknown_anonymization_method_is_refused() =>
        AssertRefusedAsync("""{"dataset":"people","id":"id","anonymize":{"email":"encrypt"}}""", "anonymize.email: unknown method 'encrypt'");

    [Fact]
    public Task An_unknown_enrichment_function_is_refused() =>
        AssertRefusedAsync("""{"dataset":"people","id":"id","enrich":{"d":{"fn":"domain","from":"email"}}}""", "enrich.d.fn: unknown function 'domain'");

    [Theory]
    [InlineData("friends[*.phone")]
    [InlineData("a..b")]
    [InlineData(".email")]
    [InlineData("friends[0].phone")]
    public Task A_bad_path_syntax_is_refused(string path) =>
        AssertRefusedAsync("{\"dataset\":\"people\",\"id\":\"id\",\"anonymize\":{\"" + path + "\":\"redact\"}}", $"anonymize.{path}: bad path");

    [Fact]
    public Task An_anonymized_id_path_is_refused() =>
        AssertRefusedAsync("""{"dataset":"people","id":"email","anonymize":{"email":"hash"}}""", "anonymize.email: would anonymize the record id 'email'");

    [Fact]
    public Task An_anonymized_parent_of_the_id_is_refused() =>
        AssertRefusedAsync("""{"dataset":"people","id":"user.id","anonymize":{"user":"redact"}}""", "anonymize.user: would anonymize the record id 'user.id'");

    [Fact]
    public Task An_enrichment_named_like_the_id_is_refused() =>
        AssertRefusedAsync("""{"dataset":"people","id":"id","enrich":{"id":{"fn":"year","from":"createdAt"}}}""", "enrich.id: collides with the id field 'id'");

    [Fact]
    public Task An_enrichment_named_like_an_anonymized_field_is_refused() =>
        AssertRefusedAsync("""{"dataset":"people","id":"id","anonymize":{"email":"hash"},"enrich":{"email":{"fn":"email-domain","from":"email"}}}""", "enrich.email: collides with the anonymized field 'email'");

    [Fact]
    public Task An_enrichment_named_like_a_required_field_is_refused() =>
        AssertRefusedAsync("""{"dataset":"people","id":"id","require":["country"],"enrich":{"country":{"fn":"country-name","from":"country"}}}""", "enrich.country: collides with the required field 'country'");

    [Fact]
    public Task An_empty_dataset_name_is_refused() =>
        AssertRefusedAsync("""{"dataset":"","id":"id"}""", "dataset: must be 1-63 characters");

    [Fact]
    public Task A_missing_dataset_name_is_refused() =>
        AssertRefusedAsync("""{"id":"id"}""", "dataset: is required");

    [Theory]
    [InlineData("people'; DROP TABLE dataprocess.records; --")]
    [InlineData("people\\\"); DROP SCHEMA dataprocess CASCADE; --")]
    [InlineData("people OR 1=1")]
    [InlineData("pg_catalog.pg_class")]
    [InlineData("People")]
    [InlineData("1people")]
    public Task A_sql_looking_dataset_name_is_refused(string dataset) =>
        AssertRefusedAsync($$"""{"dataset":"{{dataset}}","id":"id"}""", "dataset: must be 1-63 characters");

    [Fact]
    public Task A_dataset_name_over_63_characters_is_refused() =>
        AssertRefusedAsync($$"""{"dataset":"{{new string('a', 64)}}","id":"id"}""", "dataset: must be 1-63 characters");

    [Fact]
    public Task A_profile_that_is_not_json_is_refused() =>
        AssertRefusedAsync("""{"dataset":"people","id":"id",""", "not valid JSON at line 1");

    [Fact]
    public Task An_unknown_profile_field_is_refused() =>
        AssertRefusedAsync("""{"dataset":"people","id":"id","anonymise":{"email":"hash"}}""", "anonymise: unknown field");

    [Theory]
    [InlineData("1.5", "not 1.5")]
    [InlineData("-0.1", "not -0.1")]
    [InlineData("\"5%\"", "not '5%'")]
    public Task A_max_reject_ratio_outside_0_to_1_is_refused(string ratio, string shown) =>
        AssertRefusedAsync($$"""{"dataset":"people","id":"id","maxRejectRatio":{{ratio}}}""", $"maxRejectRatio: must be a number from 0 to 1 (the largest share of a file's records that may be rejected, such as 0.05), {shown}");

    public void Dispose() => _cli.Dispose();

    private async Task AssertRefusedAsync(string profile, string reason)
    {
        var database = await postgres.CreateDatabaseAsync();
        var input = _cli.File("input.json", """[{"id":1,"email":"a@example.org"}]""");

        var run = await _cli.RunAsync(database, "run", input, "--profile", _cli.Profile(profile, "bad.profile.json"));

        run.ExitCode.Should().Be(1, run.Output);
        run.ErrorLines.Should().ContainSingle().Which.Should().StartWith("error: profile bad.profile.json: ").And.Contain(reason);
        (await Ledger.SchemaExistsAsync(database)).Should().BeFalse("the profile is refused before the database is touched");
        _cli.LeftoverFiles().Should().BeEmpty("nothing was staged");
        await postgres.DropDatabaseAsync(new Npgsql.NpgsqlConnectionStringBuilder(database).Database!);
    }
}
