using System.Security.Cryptography;
using DataProcess.Testing;

namespace DataProcess.Reliability.Tests;

/// <summary>
/// Matrix section 7: every run ends in a true state. A run is the same run only when its source, etag, profile
/// (canonical hash) and HMAC key (fingerprint) all match the source's current load; anything else loads again and
/// replaces the source's rows. Empty files and files of rejects only are valid; a profile may cap the reject share.
/// </summary>
public sealed class RunStateTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>, IDisposable
{
    private const string Phones = """
        [{"id":"1","email":"a@example.org","phone":"+441632960001"},
         {"id":"2","email":"b@example.org","phone":"+441632960002"},
         {"id":"3","phone":"+441632960003"}]
        """;

    private const string WithoutMask = """{"dataset":"people","id":"id","anonymize":{"email":"hash"}}""";
    private const string WithMask = """{"dataset":"people","id":"id","anonymize":{"email":"hash","phone":"mask"}}""";
    private readonly CliHarness _cli = new();

    [Fact]
    public async Task A_fixed_profile_reprocesses_the_file_and_no_clear_value_of_the_first_load_stays()
    {
        var database = await postgres.CreateDatabaseAsync();
        var input = _cli.File("people.json", Phones);
        var first = await _cli.RunAsync(database, "run", input, "--profile", _cli.Profile(WithoutMask), "--json");

        var fixedRun = await _cli.RunAsync(database, "run", input, "--profile", _cli.Profile(WithMask), "--json");

        fixedRun.ExitCode.Should().Be(0, fixedRun.Error);
        fixedRun.Output.Should().Contain("\"status\":\"succeeded\"").And.Contain("\"records\":3");
        (await Ledger.DumpRecordsAsync(database)).Should().NotContain("+44163296000").And.Contain("*********0001");
        var runs = await Ledger.RunsAsync(database);
        runs.Select(r => r.Status).Should().Equal("succeeded", "succeeded");
        runs[0].ReplacedBy.Should().Be(runs[1].RunId);
        runs[0].ProfileHash.Should().NotBe(runs[1].ProfileHash);
        runs[0].KeyFingerprint.Should().Be(runs[1].KeyFingerprint).And.HaveLength(32);
        first.Output.Should().Contain(runs[0].RunId.ToString());
        (await Ledger.RejectsAsync(database)).Should().BeEmpty();
        AssertNothingLeftInTheStore();
    }

    [Fact]
    public async Task A_fixed_require_removes_the_rows_whose_ids_no_longer_load_and_keeps_their_rejects()
    {
        var database = await postgres.CreateDatabaseAsync();
        var input = _cli.File("people.json", Phones);
        (await _cli.RunAsync(database, "run", input, "--profile", _cli.Profile(WithMask))).ExitCode.Should().Be(0);
        (await Ledger.IdsAsync(database)).Should().Equal("1", "2", "3");

        var run = await _cli.RunAsync(database, "run", input, "--profile", _cli.Profile("""{"dataset":"people","id":"id","require":["email"],"anonymize":{"email":"hash","phone":"mask"}}"""));

        run.ExitCode.Should().Be(0, run.Error);
        (await Ledger.IdsAsync(database)).Should().Equal("1", "2");
        (await Ledger.RejectsAsync(database)).Should().Equal(new RejectRow(2, "3", "the required field 'email' is missing"));
        (await Ledger.RunsAsync(database)).Select(r => (r.Status, r.Records, r.Rejected)).Should().Equal(("succeeded", 3L, 0L), ("succeeded", 2L, 1L));
        AssertNothingLeftInTheStore();
    }

    [Fact]
    public async Task A_fixed_records_path_replaces_the_rows_of_the_wrong_array()
    {
        var database = await postgres.CreateDatabaseAsync();
        var input = _cli.File("export.json", """{"archive":[{"id":"old","email":"o@example.org"}],"data":[{"id":"a","email":"a@example.org"},{"id":"b","email":"b@example.org"}]}""");
        (await _cli.RunAsync(database, "run", input, "--profile", _cli.Profile("""{"dataset":"people","records":"$.archive","id":"id","anonymize":{"email":"hash"}}"""))).ExitCode.Should().Be(0);

        var run = await _cli.RunAsync(database, "run", input, "--profile", _cli.Profile("""{"dataset":"people","records":"$.data","id":"id","anonymize":{"email":"hash"}}"""));

        run.ExitCode.Should().Be(0, run.Error);
        (await Ledger.IdsAsync(database)).Should().Equal("a", "b");
    }

    [Fact]
    public async Task The_same_file_profile_and_key_is_skipped_and_the_summary_names_the_run_it_matched()
    {
        var database = await postgres.CreateDatabaseAsync();
        var input = _cli.File("people.json", Phones);
        var profile = _cli.Profile(WithMask);
        (await _cli.RunAsync(database, "run", input, "--profile", profile)).ExitCode.Should().Be(0);
        var loaded = (await Ledger.RunsAsync(database)).Single();
        var before = await Ledger.DumpRecordsAsync(database);

        var text = await _cli.RunAsync(database, "run", input, "--profile", profile);
        var json = await _cli.RunAsync(database, "run", input, "--profile", profile, "--json");

        text.ExitCode.Should().Be(0, text.Error);
        text.Output.Should().Contain("status:     skipped").And.Contain($"same as:    {loaded.RunId:D} (same content, profile and key)");
        json.Output.Should().Contain($"\"matchedRunId\":\"{loaded.RunId:D}\"");
        (await Ledger.RunsAsync(database)).Skip(1).Should().OnlyContain(r => r.Status == "skipped" && r.MatchedRunId == loaded.RunId);
        (await Ledger.DumpRecordsAsync(database)).Should().Be(before);
        AssertNothingLeftInTheStore();
    }

    [Fact]
    public async Task A_profile_with_its_keys_reordered_and_its_whitespace_changed_is_the_same_run()
    {
        var database = await postgres.CreateDatabaseAsync();
        var input = _cli.File("people.json", Phones);
        (await _cli.RunAsync(database, "run", input, "--profile", _cli.Profile(WithMask))).ExitCode.Should().Be(0);

        var reordered = await _cli.RunAsync(database, "run", input, "--profile", _cli.Profile("""
            {
              "anonymize": { "phone": "mask",   "email": "hash" },
              "id":        "id",
              "dataset":   "people"
            }
            """), "--json");

        reordered.Output.Should().Contain("\"status\":\"skipped\"");
    }

    [Fact]
    public async Task A_rotated_key_reprocesses_the_file_with_the_new_pseudonyms()
    {
        var database = await postgres.CreateDatabaseAsync();
        var input = _cli.File("people.json", Phones);
        var profile = _cli.Profile(WithMask);
        (await _cli.RunAsync(database, "run", input, "--profile", profile)).ExitCode.Should().Be(0);
        var oldPseudonym = await PostgresFixture.ScalarAsync<string>(database, "SELECT data->>'email' FROM dataprocess.records WHERE record_id = '1'");

        var rotated = await _cli.RunWithAsync(database, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)), "run", input, "--profile", profile, "--json");

        rotated.Output.Should().Contain("\"status\":\"succeeded\"");
        (await PostgresFixture.ScalarAsync<string>(database, "SELECT data->>'email' FROM dataprocess.records WHERE record_id = '1'")).Should().NotBe(oldPseudonym);
        (await PostgresFixture.ScalarAsync<long>(database, "SELECT count(DISTINCT run_id) FROM dataprocess.records")).Should().Be(1, "every row is the new key's");
        var runs = await Ledger.RunsAsync(database);
        runs[0].KeyFingerprint.Should().NotBe(runs[1].KeyFingerprint);
        runs[0].ReplacedBy.Should().Be(runs[1].RunId);
    }

    [Fact]
    public async Task Reprocess_forces_a_reload_of_the_same_file_profile_and_key()
    {
        var database = await postgres.CreateDatabaseAsync();
        var input = _cli.File("people.json", Phones);
        var profile = _cli.Profile(WithMask);
        (await _cli.RunAsync(database, "run", input, "--profile", profile)).ExitCode.Should().Be(0);

        var forced = await _cli.RunAsync(database, "run", input, "--profile", profile, "--reprocess", "--json");

        forced.Output.Should().Contain("\"status\":\"succeeded\"").And.Contain("\"records\":3");
        var runs = await Ledger.RunsAsync(database);
        runs.Select(r => r.Status).Should().Equal("succeeded", "succeeded");
        runs[0].ReplacedBy.Should().Be(runs[1].RunId);
        (await PostgresFixture.ScalarAsync<long>(database, "SELECT count(DISTINCT run_id) FROM dataprocess.records")).Should().Be(1);
    }

    [Fact]
    public async Task A_profile_changed_after_a_failed_run_loads_the_file()
    {
        var database = await postgres.CreateDatabaseAsync();
        var input = _cli.File("people.json", Phones);
        var failed = await _cli.RunAsync(database, "run", input, "--profile", _cli.Profile("""{"dataset":"people","records":"$.result","id":"id","anonymize":{"email":"hash","phone":"mask"}}"""));
        failed.ExitCode.Should().Be(1);

        var run = await _cli.RunAsync(database, "run", input, "--profile", _cli.Profile(WithMask), "--json");

        run.ExitCode.Should().Be(0, run.Error);
        run.Output.Should().Contain("\"status\":\"succeeded\"");
        var runs = await Ledger.RunsAsync(database);
        runs.Select(r => r.Status).Should().Equal("failed", "succeeded");
        runs[0].Error.Should().Contain("people.json");
        runs[0].ProfileHash.Should().NotBeNull().And.NotBe(runs[1].ProfileHash);
        (await Ledger.IdsAsync(database)).Should().Equal("1", "2", "3");
        (await Ledger.RejectsAsync(database)).Should().BeEmpty();
        AssertNothingLeftInTheStore();
    }

    [Fact]
    public async Task The_same_file_under_two_datasets_loads_into_each_and_each_replay_is_skipped_in_its_own_dataset()
    {
        var database = await postgres.CreateDatabaseAsync();
        var input = _cli.File("people.json", Phones);
        var people = _cli.Profile(WithMask, "people.profile.json");
        var contacts = _cli.Profile(WithMask.Replace("\"people\"", "\"contacts\"", StringComparison.Ordinal), "contacts.profile.json");

        var intoPeople = await _cli.RunAsync(database, "run", input, "--profile", people, "--json");
        var intoContacts = await _cli.RunAsync(database, "run", input, "--profile", contacts, "--json");
        var replay = await _cli.RunAsync(database, "run", input, "--profile", people, "--json");

        intoPeople.Output.Should().Contain("\"status\":\"succeeded\"");
        intoContacts.Output.Should().Contain("\"status\":\"succeeded\"");
        replay.Output.Should().Contain("\"status\":\"skipped\"");
        (await Ledger.IdsAsync(database, "people")).Should().Equal("1", "2", "3");
        (await Ledger.IdsAsync(database, "contacts")).Should().Equal("1", "2", "3");
        var runs = await Ledger.RunsAsync(database);
        runs.Select(r => (r.Dataset, r.Status)).Should().Equal(("people", "succeeded"), ("contacts", "succeeded"), ("people", "skipped"));
        runs[2].MatchedRunId.Should().Be(runs[0].RunId);
        runs.Should().OnlyContain(r => r.ReplacedBy == null, "a dataset's load never replaces another dataset's");
    }

    [Theory]
    [InlineData("[]", """{"dataset":"people","id":"id"}""")]
    [InlineData("[ ]\n", """{"dataset":"people","records":"$","id":"id"}""")]
    [InlineData("""{"result": []}""", """{"dataset":"people","records":"$.result","id":"id"}""")]
    public async Task An_empty_array_succeeds_with_zero_records_and_loads_nothing(string content, string profile)
    {
        var database = await postgres.CreateDatabaseAsync();

        var run = await _cli.RunAsync(database, "run", _cli.File("empty.json", content), "--profile", _cli.Profile(profile), "--json");

        run.ExitCode.Should().Be(0, run.Error);
        run.Output.Should().Contain("\"status\":\"succeeded\"").And.Contain("\"records\":0").And.Contain("\"rejected\":0");
        (await Ledger.RunsAsync(database)).Should().ContainSingle().Which.Should().Match<RunRow>(r => r.Status == "succeeded" && r.Records == 0 && r.Rejected == 0);
        (await Ledger.RecordsAsync(database)).Should().Be(0);
        (await Ledger.RejectsAsync(database)).Should().BeEmpty();
        AssertNothingLeftInTheStore();
    }

    [Fact]
    public async Task A_file_whose_every_record_is_rejected_succeeds_with_zero_records_and_every_reject_kept()
    {
        var database = await postgres.CreateDatabaseAsync();
        var input = _cli.File("bad.json", """[{"id":"1"},{"email":"b@example.org"},42]""");

        var run = await _cli.RunAsync(database, "run", input, "--profile", _cli.Profile(), "--json");

        run.ExitCode.Should().Be(0, run.Error);
        run.Output.Should().Contain("\"status\":\"succeeded\"").And.Contain("\"records\":0").And.Contain("\"rejected\":3");
        (await Ledger.RunsAsync(database)).Should().ContainSingle().Which.Should().Match<RunRow>(r => r.Status == "succeeded" && r.Records == 0 && r.Rejected == 3);
        (await Ledger.RejectsAsync(database)).Should().Equal(
            new RejectRow(0, "1", "the required field 'email' is missing"),
            new RejectRow(1, null, "the id 'id' is missing"),
            new RejectRow(2, null, "the record is a number, not an object"));
        (await Ledger.RecordsAsync(database)).Should().Be(0);
        AssertNothingLeftInTheStore();
    }

    [Fact]
    public async Task A_reject_share_above_max_reject_ratio_fails_the_run_loads_nothing_and_keeps_the_rejects()
    {
        var database = await postgres.CreateDatabaseAsync();
        var input = _cli.File("bad.json", """[{"id":"1","email":"a@example.org"},{"id":"2"},{"id":"3"}]""");
        var profile = _cli.Profile("""{"dataset":"people","id":"id","require":["email"],"anonymize":{"email":"hash"},"maxRejectRatio":0.5}""");

        var run = await _cli.RunAsync(database, "run", input, "--profile", profile);

        run.ExitCode.Should().Be(1);
        run.ErrorLines.Should().ContainSingle().Which.Should().Be(
            "error: bad.json: 2 of 3 records were rejected (66.7%), more than the profile's maxRejectRatio of 0.5; nothing was loaded, the rejects are kept in dataprocess.rejects");
        var ledger = (await Ledger.RunsAsync(database)).Should().ContainSingle().Subject;
        ledger.Should().Match<RunRow>(r => r.Status == "failed" && r.Records == 0 && r.Rejected == 2);
        ledger.Error.Should().StartWith("bad.json: 2 of 3 records were rejected");
        (await Ledger.RejectsAsync(database)).Select(r => r.Id).Should().Equal("2", "3");
        (await Ledger.RecordsAsync(database)).Should().Be(0);
        AssertNothingLeftInTheStore();
    }

    [Fact]
    public async Task A_reject_share_at_max_reject_ratio_succeeds()
    {
        var database = await postgres.CreateDatabaseAsync();
        var input = _cli.File("half.json", """[{"id":"1","email":"a@example.org"},{"id":"2"}]""");

        var run = await _cli.RunAsync(database, "run", input, "--profile", _cli.Profile("""{"dataset":"people","id":"id","require":["email"],"maxRejectRatio":0.5}"""), "--json");

        run.ExitCode.Should().Be(0, run.Error);
        run.Output.Should().Contain("\"records\":1").And.Contain("\"rejected\":1");
    }

    public void Dispose() => _cli.Dispose();

    private void AssertNothingLeftInTheStore()
    {
        _cli.LeftoverFiles().Should().BeEmpty("a run that ended leaves no staging output and no claim");
        _cli.LeftoverDirectories().Should().BeEmpty("nor an empty run directory");
    }
}
