using DataProcess.Testing;

namespace DataProcess.Reliability.Tests;

/// <summary>
/// Matrix section 2: a bad record is rejected (kept in <c>dataprocess.rejects</c> with a reason that names fields,
/// never values) and the run goes on and succeeds. Each cell loads a good record, then the bad one, then another
/// good one, so the reject is record 1.
/// </summary>
public sealed class BadRecordTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>, IDisposable
{
    private readonly CliHarness _cli = new();

    [Fact]
    public Task A_record_that_is_not_an_object_is_rejected() => AssertRejectedAsync("[1,2]", "the record is an array, not an object");

    [Fact]
    public Task A_record_that_is_a_string_is_rejected() => AssertRejectedAsync("\"PII-MARKER-1@example.org\"", "the record is a string, not an object");

    [Fact]
    public Task A_record_without_an_id_is_rejected() => AssertRejectedAsync("""{"email":"x@example.org"}""", "the id 'id' is missing");

    [Fact]
    public Task A_null_id_is_rejected() => AssertRejectedAsync("""{"id":null,"email":"x@example.org"}""", "the id 'id' is null");

    [Fact]
    public Task An_object_id_is_rejected() => AssertRejectedAsync("""{"id":{"n":7},"email":"x@example.org"}""", "the id 'id' is an object; it must be a string or a number");

    [Fact]
    public Task An_array_id_is_rejected() => AssertRejectedAsync("""{"id":[7],"email":"x@example.org"}""", "the id 'id' is an array; it must be a string or a number");

    [Fact]
    public Task A_boolean_id_is_rejected() => AssertRejectedAsync("""{"id":true,"email":"x@example.org"}""", "the id 'id' is a boolean; it must be a string or a number");

    [Fact]
    public Task An_empty_id_is_rejected() => AssertRejectedAsync("""{"id":"","email":"x@example.org"}""", "the id 'id' is empty");

    [Fact]
    public Task A_blank_id_is_rejected() => AssertRejectedAsync("""{"id":"   ","email":"x@example.org"}""", "the id 'id' is empty");

    [Fact]
    public Task An_id_over_256_characters_is_rejected() =>
        AssertRejectedAsync($$"""{"id":"{{new string('x', 257)}}","email":"x@example.org"}""", "the id 'id' is longer than 256 characters");

    [Fact]
    public async Task An_id_of_exactly_256_characters_is_accepted()
    {
        var database = await postgres.CreateDatabaseAsync();
        var run = await RunAsync(database, $$"""[{"id":"{{new string('x', 256)}}","email":"x@example.org"}]""");

        run.ExitCode.Should().Be(0, run.Error);
        (await Ledger.RecordsAsync(database)).Should().Be(1);
    }

    [Fact]
    public Task A_record_missing_a_required_field_is_rejected() => AssertRejectedAsync("""{"id":"r1","name":"X"}""", "the required field 'email' is missing", "r1");

    [Fact]
    public Task A_record_whose_required_field_is_null_is_rejected() => AssertRejectedAsync("""{"id":"r1","email":null}""", "the required field 'email' is null", "r1");

    [Fact]
    public Task An_object_where_a_hashed_string_is_expected_is_rejected() =>
        AssertRejectedAsync("""{"id":"r1","email":{"address":"PII-MARKER-2@example.org"}}""", "field 'email' is an object; hash expects a string or number", "r1");

    [Fact]
    public Task An_array_to_mask_is_rejected() =>
        AssertRejectedAsync("""{"id":"r1","email":"x@example.org","phone":["+33 6 12 34 56 78"]}""", "field 'phone' is an array; mask expects a string or number", "r1");

    [Fact]
    public Task A_boolean_where_a_date_is_expected_is_rejected() =>
        AssertRejectedAsync("""{"id":"r1","email":"x@example.org","birthDate":true}""", "field 'birthDate' is a boolean; year expects a date string or a Unix epoch number", "r1");

    [Fact]
    public Task A_string_that_is_not_a_date_is_rejected() =>
        AssertRejectedAsync("""{"id":"r1","email":"x@example.org","birthDate":"PII-MARKER-3"}""", "field 'birthDate' is not a recognisable date", "r1");

    [Fact]
    public Task A_number_where_an_ip_address_is_expected_is_rejected() =>
        AssertRejectedAsync("""{"id":"r1","email":"x@example.org","ip":3232235777}""", "field 'ip' is a number; ip-prefix expects an IP address string", "r1");

    [Fact]
    public async Task A_number_where_a_date_is_expected_is_read_as_epoch_seconds_or_a_year()
    {
        var database = await postgres.CreateDatabaseAsync();
        var run = await RunAsync(database, """[{"id":"epoch","email":"x@example.org","birthDate":631152000},{"id":"year","email":"y@example.org","birthDate":1987}]""");

        run.ExitCode.Should().Be(0, run.Error);
        (await PostgresFixture.ScalarAsync<string>(database, "SELECT string_agg(record_id || '=' || (data->>'birthDate'), ',' ORDER BY record_id) FROM dataprocess.records"))
            .Should().Be("epoch=1990,year=1987");
    }

    [Fact]
    public async Task A_number_to_hash_is_hashed_as_its_json_text()
    {
        var database = await postgres.CreateDatabaseAsync();
        var run = await RunAsync(database, """[{"id":"n","email":4412345678}]""");

        run.ExitCode.Should().Be(0, run.Error);
        (await PostgresFixture.ScalarAsync<string>(database, "SELECT data->>'email' FROM dataprocess.records")).Should().MatchRegex("^[0-9a-f]{64}$");
    }

    [Fact]
    public Task Duplicate_keys_in_one_record_are_rejected() =>
        AssertRejectedAsync("""{"id":"r1","email":"PII-MARKER-4@example.org","email":"decoy@example.org"}""", "the record has two properties with the same name");

    [Fact]
    public Task Duplicate_keys_in_a_nested_object_are_rejected() =>
        AssertRejectedAsync("""{"id":"r1","email":"x@example.org","address":{"city":"A","city":"B"}}""", "the record has two properties with the same name");

    [Fact]
    public async Task Duplicate_ids_across_records_keep_the_last_and_are_counted()
    {
        var database = await postgres.CreateDatabaseAsync();
        var run = await RunAsync(database, """[{"id":"a","email":"1@example.org","v":1},{"id":"b","email":"2@example.org"},{"id":"a","email":"3@example.org","v":2},{"id":"a","email":"4@example.org","v":3}]""", "--json");

        run.ExitCode.Should().Be(0, run.Error);
        run.Output.Should().Contain("\"records\":2").And.Contain("\"duplicates\":2");
        var ledger = (await Ledger.RunsAsync(database)).Should().ContainSingle().Subject;
        ledger.Status.Should().Be("succeeded");
        (ledger.Records, ledger.Duplicates, ledger.Rejected).Should().Be((2L, 2L, 0L));
        (await PostgresFixture.ScalarAsync<string>(database, "SELECT data->>'v' FROM dataprocess.records WHERE record_id = 'a'")).Should().Be("3");
    }

    [Fact]
    public async Task Numeric_ids_and_string_ids_of_the_same_text_are_the_same_record()
    {
        // The id column is text: 7 and "7" are one record, the later one wins and counts as a duplicate.
        var database = await postgres.CreateDatabaseAsync();
        var run = await RunAsync(database, """[{"id":7,"email":"1@example.org","v":1},{"id":"7","email":"2@example.org","v":2}]""");

        run.ExitCode.Should().Be(0, run.Error);
        (await Ledger.RunsAsync(database)).Single().Duplicates.Should().Be(1);
        (await PostgresFixture.ScalarAsync<string>(database, "SELECT data->>'v' FROM dataprocess.records WHERE record_id = '7'")).Should().Be("2");
    }

    public void Dispose() => _cli.Dispose();

    private Task<CliRun> RunAsync(string database, string content, params string[] extra) =>
        _cli.RunAsync(database, ["run", _cli.File($"input-{Guid.NewGuid():N}.json", content), "--profile", _cli.Profile(), .. extra]);

    private async Task AssertRejectedAsync(string bad, string reason, string? rejectedId = null)
    {
        var database = await postgres.CreateDatabaseAsync();
        var run = await RunAsync(database, $"[{{\"id\":\"g0\",\"email\":\"g0@example.org\"}},\n{bad},\n{{\"id\":\"g2\",\"email\":\"g2@example.org\"}}]");

        run.ExitCode.Should().Be(0, run.Error);
        run.Error.Should().BeEmpty();
        var ledger = (await Ledger.RunsAsync(database)).Should().ContainSingle().Subject;
        ledger.Status.Should().Be("succeeded");
        (ledger.Records, ledger.Rejected).Should().Be((2L, 1L));
        var reject = (await Ledger.RejectsAsync(database)).Should().ContainSingle().Subject;
        reject.Should().Be(new RejectRow(1, rejectedId, reason));
        reject.Reason.Should().NotContain("PII-MARKER");
        (await PostgresFixture.ScalarAsync<string>(database, "SELECT string_agg(record_id, ',' ORDER BY record_id) FROM dataprocess.records")).Should().Be("g0,g2");
        await postgres.DropDatabaseAsync(new Npgsql.NpgsqlConnectionStringBuilder(database).Database!);
    }
}
