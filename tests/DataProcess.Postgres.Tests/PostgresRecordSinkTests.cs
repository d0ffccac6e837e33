using System.Text.Json;
using DataProcess.Core.Ports;
using DataProcess.Testing;

namespace DataProcess.Postgres.Tests;

/// <summary>The load protocol Consolidation drives (keys and rejects, then the records straight into the table).</summary>
public sealed class PostgresRecordSinkTests(PostgresFixture fixture) : IClassFixture<PostgresFixture>
{
    [Fact]
    public async Task A_load_writes_every_record_and_a_succeeded_run_with_its_counts_and_identity()
    {
        await using var db = await TestDatabase.CreateAsync(fixture);
        var run = TestDatabase.Run("incoming/a.json", profileHash: "p-a", keyFingerprint: "k-a");

        var result = await db.LoadAsync(run, ("1", """{"id":"1","name":"Ann"}"""), ("2", """{"id":"2","name":"Bob"}"""));

        result.Should().BeEquivalentTo(new { Records = 2, Rejected = 0, Duplicates = 0, Superseded = 0 });
        var records = await db.RecordsAsync();
        records.Keys.Should().Equal("1", "2");
        records.Values.Should().AllSatisfy(r =>
        {
            r.Source.Should().Be("incoming/a.json");
            r.RunId.Should().Be(run.RunId);
        });
        (await db.FieldAsync("2", "name")).Should().Be("Bob");

        var ledger = await db.RunAsync(run.RunId);
        ledger.Should().BeEquivalentTo(new
        {
            Dataset = "customers", Source = "incoming/a.json", SourceETag = "etag-1", Status = "succeeded",
            Records = 2L, Rejected = 0L, Duplicates = 0L, Superseded = 0L, Error = (string?)null,
            ProfileHash = "p-a", KeyFingerprint = "k-a", ReplacedBy = (Guid?)null,
        });
        ledger.FinishedAt.Should().NotBeNull();
        ledger.StartedAt.Should().BeCloseTo(run.StartedAt, TimeSpan.FromMilliseconds(1));
    }

    [Fact]
    public async Task The_last_duplicate_wins_duplicates_are_counted_and_rejects_are_kept_with_their_reasons()
    {
        await using var db = await TestDatabase.CreateAsync(fixture);
        var run = TestDatabase.Run("incoming/dups.json");

        var result = await db.LoadAsync(
            run,
            ("a", """{"v":1}"""), ("b", """{"v":1}"""), LoadRow.Reject(null, "the id 'id' is missing"), ("a", """{"v":2}"""),
            ("c", """{"v":1}"""), ("a", """{"v":3}"""), ("b", """{"v":2}"""), LoadRow.Reject("d", "field 'x' is an object; hash expects a string or number"));

        result.Should().BeEquivalentTo(new { Records = 3, Rejected = 2, Duplicates = 3, Superseded = 0 });
        (await db.RecordsAsync()).Keys.Should().Equal("a", "b", "c");
        (await db.FieldAsync("a", "v")).Should().Be("3");
        (await db.FieldAsync("b", "v")).Should().Be("2");
        (await db.RunAsync(run.RunId)).Should().Match<RunRow>(r => r.Status == "succeeded" && r.Records == 3 && r.Rejected == 2 && r.Duplicates == 3);
        (await db.RejectsAsync()).Should().Equal(
            new RejectRow(run.RunId, 2, null, "the id 'id' is missing"),
            new RejectRow(run.RunId, 7, "d", "field 'x' is an object; hash expects a string or number"));
        (await db.ScalarAsync<bool>("SELECT bool_and(loaded_at = (SELECT loaded_at FROM dataprocess.records LIMIT 1)) FROM dataprocess.records")).Should().BeTrue();
    }

    [Fact]
    public async Task Records_keep_their_json_through_the_binary_jsonb_path()
    {
        await using var db = await TestDatabase.CreateAsync(fixture);
        const string json = """{"id":"é-1","name":"Zoë 🚀 \"quoted\"","n":12345678901234567890,"nested":{"list":[1,2.5,null,true]}}""";

        await db.LoadAsync(TestDatabase.Run("incoming/unicode.json"), ("é-1", json));

        var stored = (await db.RecordsAsync())["é-1"].Data;
        JsonDocument.Parse(stored).RootElement.GetProperty("name").GetString().Should().Be("Zoë 🚀 \"quoted\"");
        (await db.ScalarAsync<bool>($"SELECT data = '{json.Replace("'", "''", StringComparison.Ordinal)}'::jsonb FROM dataprocess.records"))
            .Should().BeTrue();
    }

    [Fact]
    public async Task A_record_larger_than_the_copy_buffer_loads_intact()
    {
        await using var db = await TestDatabase.CreateAsync(fixture);
        var big = new string('x', 3 * 1024 * 1024);

        await db.LoadAsync(TestDatabase.Run("incoming/big.json"), ("small", "{}"), ("big", $$"""{"blob":"{{big}}"}"""), ("after", "{}"));

        (await db.FieldAsync("big", "blob")).Should().Be(big);
        (await db.RecordsAsync()).Keys.Should().Equal("after", "big", "small");
    }

    [Fact]
    public async Task A_later_file_replaces_the_rows_of_an_earlier_one_and_leaves_the_others_and_other_datasets()
    {
        await using var db = await TestDatabase.CreateAsync(fixture);
        var first = TestDatabase.Run("incoming/day1.json");
        var other = TestDatabase.Run("incoming/other.json", dataset: "orders");
        var second = TestDatabase.Run("incoming/day2.json");

        await db.LoadAsync(first, ("1", """{"v":"old"}"""), ("2", """{"v":"old"}"""));
        await db.LoadAsync(other, ("2", """{"v":"orders"}"""));
        var result = await db.LoadAsync(second, ("2", """{"v":"new"}"""), ("3", """{"v":"new"}"""), ("2", """{"v":"newer"}"""));

        result.Should().BeEquivalentTo(new { Records = 2, Rejected = 0, Duplicates = 1, Superseded = 0 });
        var records = await db.RecordsAsync();
        records.Keys.Should().Equal("1", "2", "3");
        (await db.FieldAsync("1", "v")).Should().Be("old");
        (await db.FieldAsync("2", "v")).Should().Be("newer");
        records["1"].RunId.Should().Be(first.RunId);
        records["2"].Should().Match<RecordRow>(r => r.RunId == second.RunId && r.Source == "incoming/day2.json");
        (await db.FieldAsync("2", "v", dataset: "orders")).Should().Be("orders");
    }

    [Fact]
    public async Task A_file_of_no_records_or_only_rejects_succeeds_with_zero_records_and_keeps_every_reject()
    {
        await using var db = await TestDatabase.CreateAsync(fixture);
        var empty = TestDatabase.Run("incoming/empty.json");
        var rejected = TestDatabase.Run("incoming/rejected.json");

        (await db.LoadAsync(empty)).Should().BeEquivalentTo(new { Records = 0, Rejected = 0, Duplicates = 0 });
        (await db.LoadAsync(rejected, LoadRow.Reject(null, "the id 'id' is missing"), LoadRow.Reject("x", "the required field 'email' is missing")))
            .Should().BeEquivalentTo(new { Records = 0, Rejected = 2, Duplicates = 0 });

        (await db.RecordsAsync()).Should().BeEmpty();
        (await db.RunsAsync()).Should().OnlyContain(r => r.Status == "succeeded" && r.Records == 0);
        (await db.RejectsAsync()).Select(r => (r.RunId, r.RecordIndex, r.RecordId)).Should().Equal((rejected.RunId, 0L, (string?)null), (rejected.RunId, 1L, "x"));
    }

    [Fact]
    public async Task A_load_failed_after_its_keys_commits_a_failed_run_with_its_rejects_and_no_record()
    {
        await using var db = await TestDatabase.CreateAsync(fixture);
        await db.LoadAsync(TestDatabase.Run("incoming/earlier.json"), ("1", """{"v":"kept"}"""));
        var run = TestDatabase.Run("incoming/mostly-bad.json");
        LoadRow[] rows = [("1", """{"v":"new"}"""), LoadRow.Reject("2", "the required field 'email' is missing"), LoadRow.Reject(null, "the record is a number, not an object")];

        await using (var load = await db.BeginAsync(run))
        {
            await SinkLoads.AddKeysAsync(load, rows);
            await load.FailAsync("bad.json: 2 of 3 records were rejected");
        }

        (await db.RunAsync(run.RunId)).Should().BeEquivalentTo(new { Status = "failed", Records = 0L, Rejected = 2L, Error = "bad.json: 2 of 3 records were rejected", ProfileHash = "profile-1" });
        (await db.RejectsAsync()).Where(r => r.RunId == run.RunId).Select(r => r.RecordIndex).Should().Equal(1L, 2L);
        (await db.FieldAsync("1", "v")).Should().Be("kept");

        await db.Sink.RecordFailureAsync(run, "RejectRatioExceededException: bad.json: 2 of 3 records were rejected");
        (await db.RunAsync(run.RunId)).Should().BeEquivalentTo(new { Status = "failed", Records = 0L, Rejected = 2L }, "the failure path keeps the counts the load recorded");
    }

    [Fact]
    public async Task Replaying_the_same_identity_is_skipped_names_the_run_it_matched_and_changes_no_record()
    {
        await using var db = await TestDatabase.CreateAsync(fixture);
        var original = TestDatabase.Run("incoming/a.json", "etag-1");
        await db.LoadAsync(original, ("1", """{"v":"original"}"""));
        var before = await db.RecordsAsync();

        var replay = TestDatabase.Run("incoming/a.json", "etag-1");
        var start = await db.Sink.BeginAsync(replay, reprocess: false);

        start.Should().Be(new LoadStart.Skipped(original.RunId));
        (await db.RecordsAsync()).Should().BeEquivalentTo(before);
        (await db.RunAsync(original.RunId)).Status.Should().Be("succeeded");
        (await db.RunAsync(replay.RunId)).Should().BeEquivalentTo(new
        {
            Status = "skipped", Source = "incoming/a.json", SourceETag = "etag-1", Records = 0L, Rejected = 0L, Duplicates = 0L, MatchedRunId = original.RunId,
        });
        (await db.RunAsync(replay.RunId)).FinishedAt.Should().NotBeNull();
        (await db.RejectsAsync()).Should().BeEmpty();
    }

    [Theory]
    [InlineData("etag-2", "profile-1", "key-1")]
    [InlineData("etag-1", "profile-2", "key-1")]
    [InlineData("etag-1", "profile-1", "key-2")]
    public async Task A_new_etag_profile_or_key_loads_again_and_replaces_the_earlier_load(string etag, string profile, string key)
    {
        await using var db = await TestDatabase.CreateAsync(fixture);
        var first = TestDatabase.Run("incoming/a.json");
        await db.LoadAsync(first, ("1", """{"v":1}"""));
        var changed = TestDatabase.Run("incoming/a.json", etag, profileHash: profile, keyFingerprint: key);

        (await db.Sink.SkipIfLoadedAsync(changed)).Should().BeNull();
        var result = await db.LoadAsync(changed, ("1", """{"v":2}"""));

        result.Should().BeEquivalentTo(new { Records = 1 });
        (await db.FieldAsync("1", "v")).Should().Be("2");
        (await db.RunAsync(first.RunId)).Should().BeEquivalentTo(new { Status = "succeeded", ReplacedBy = (Guid?)changed.RunId });
        (await db.RunAsync(changed.RunId)).Should().BeEquivalentTo(new { Status = "succeeded", ReplacedBy = (Guid?)null });
    }

    [Fact]
    public async Task Reprocessing_loads_the_same_identity_again()
    {
        await using var db = await TestDatabase.CreateAsync(fixture);
        var first = TestDatabase.Run("incoming/a.json");
        await db.LoadAsync(first, ("1", """{"v":1}"""));

        var again = await SinkLoads.LoadAsync(db.Sink, TestDatabase.Run("incoming/a.json"), reprocess: true, ("1", """{"v":2}"""));

        again.Should().NotBeNull();
        (await db.FieldAsync("1", "v")).Should().Be("2");
        (await db.RunsAsync()).Select(r => (r.Status, r.ReplacedBy is null)).Should().Equal(("succeeded", false), ("succeeded", true));
    }

    [Fact]
    public async Task Going_back_to_an_earlier_profile_loads_again_because_only_the_current_load_is_matched()
    {
        await using var db = await TestDatabase.CreateAsync(fixture);
        await db.LoadAsync(TestDatabase.Run("incoming/a.json", profileHash: "p1"), ("1", """{"v":1}"""));
        await db.LoadAsync(TestDatabase.Run("incoming/a.json", profileHash: "p2"), ("1", """{"v":2}"""));

        var back = await db.LoadAsync(TestDatabase.Run("incoming/a.json", profileHash: "p1"), ("1", """{"v":1}"""));

        back.Should().NotBeNull("the rows are p2's now");
        (await db.FieldAsync("1", "v")).Should().Be("1");
    }

    [Fact]
    public async Task Reloading_a_source_removes_its_rows_whose_ids_no_longer_come()
    {
        await using var db = await TestDatabase.CreateAsync(fixture);
        await db.LoadAsync(TestDatabase.Run("incoming/a.json", profileHash: "p1"), ("1", "{}"), ("2", "{}"), ("3", "{}"));
        await db.LoadAsync(TestDatabase.Run("incoming/b.json"), ("9", "{}"));

        var fixedRun = TestDatabase.Run("incoming/a.json", profileHash: "p2");
        await db.LoadAsync(fixedRun, ("1", "{}"), LoadRow.Reject("2", "the required field 'phone' is missing"));

        var records = await db.RecordsAsync();
        records.Keys.Should().Equal("1", "9");
        records["1"].RunId.Should().Be(fixedRun.RunId);
    }

    [Fact]
    public async Task A_reprocessed_file_keeps_the_rows_a_newer_file_holds_and_takes_back_those_an_older_one_holds()
    {
        await using var db = await TestDatabase.CreateAsync(fixture);
        var older = TestDatabase.Run("incoming/older.json");
        var middle = TestDatabase.Run("incoming/middle.json", profileHash: "p1");
        var newer = TestDatabase.Run("incoming/newer.json");
        await db.LoadAsync(older, ("o", """{"by":"older"}"""));
        await db.LoadAsync(middle, ("m", """{"by":"middle"}"""), ("n", """{"by":"middle"}"""), LoadRow.Reject("o", "the required field 'email' is missing"));
        await db.LoadAsync(newer, ("n", """{"by":"newer"}"""));

        // The middle file again, with a profile that now accepts 'o': as if loaded in the original order.
        var result = await db.LoadAsync(TestDatabase.Run("incoming/middle.json", profileHash: "p2"), ("m", """{"by":"middle2"}"""), ("n", """{"by":"middle2"}"""), ("o", """{"by":"middle2"}"""));

        result.Should().BeEquivalentTo(new { Records = 2, Superseded = 1 });
        (await db.FieldAsync("m", "by")).Should().Be("middle2");
        (await db.FieldAsync("n", "by")).Should().Be("newer", "the newer file loaded after the middle one first did");
        (await db.FieldAsync("o", "by")).Should().Be("middle2", "the older file loaded before it");
        (await db.RunsAsync()).Last().Superseded.Should().Be(1);
    }

    [Fact]
    public async Task A_new_version_of_a_source_is_the_newest_file_and_overwrites_every_id()
    {
        await using var db = await TestDatabase.CreateAsync(fixture);
        await db.LoadAsync(TestDatabase.Run("incoming/a.json", "etag-1"), ("1", """{"by":"a1"}"""));
        await db.LoadAsync(TestDatabase.Run("incoming/b.json"), ("1", """{"by":"b"}"""));

        var result = await db.LoadAsync(TestDatabase.Run("incoming/a.json", "etag-2"), ("1", """{"by":"a2"}"""));

        result.Should().BeEquivalentTo(new { Records = 1, Superseded = 0 });
        (await db.FieldAsync("1", "by")).Should().Be("a2");
    }

    [Fact]
    public async Task The_same_source_version_in_another_dataset_is_not_skipped()
    {
        await using var db = await TestDatabase.CreateAsync(fixture);
        await db.LoadAsync(TestDatabase.Run("incoming/a.json", "etag-1", dataset: "customers"), ("1", "{}"));

        var result = await db.LoadAsync(TestDatabase.Run("incoming/a.json", "etag-1", dataset: "orders"), ("1", "{}"));

        result.Should().BeEquivalentTo(new { Records = 1 });
        (await db.RecordsAsync("orders")).Keys.Should().Equal("1");
        (await db.RecordsAsync("customers")).Keys.Should().Equal("1");
    }

    [Fact]
    public async Task The_replay_check_records_nothing_for_a_new_identity_and_a_skipped_run_for_a_loaded_one()
    {
        await using var db = await TestDatabase.CreateAsync(fixture);
        var run = TestDatabase.Run("incoming/a.json");

        (await db.Sink.SkipIfLoadedAsync(run)).Should().BeNull();
        (await db.RunsAsync()).Should().BeEmpty();
        await db.LoadAsync(run, ("1", "{}"));
        var replay = TestDatabase.Run("incoming/a.json");

        (await db.Sink.SkipIfLoadedAsync(replay)).Should().Be(run.RunId);
        (await db.Sink.SkipIfLoadedAsync(run)).Should().Be(run.RunId, "a retry of the run that loaded is a match that records nothing");
        (await db.RunsAsync()).Select(r => (r.Status, r.MatchedRunId)).Should().Equal(("succeeded", (Guid?)null), ("skipped", run.RunId));
        (await db.ScalarAsync<long>("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")).Should().Be(0, "the replay check takes no lock");
    }

    [Fact]
    public async Task A_load_or_replay_check_without_the_run_identity_is_refused()
    {
        await using var db = await TestDatabase.CreateAsync(fixture);
        var anonymous = new RunDescriptor(Guid.NewGuid(), "customers", "incoming/a.json", "etag-1", DateTimeOffset.UtcNow);

        await FluentActions.Awaiting(() => db.Sink.BeginAsync(anonymous, reprocess: false)).Should().ThrowAsync<ArgumentException>().WithMessage("*profile hash and key fingerprint*");
        await FluentActions.Awaiting(() => db.Sink.SkipIfLoadedAsync(anonymous)).Should().ThrowAsync<ArgumentException>();
    }

    [Fact]
    public async Task Disposing_a_load_without_completing_it_leaves_no_record_reject_or_run()
    {
        await using var db = await TestDatabase.CreateAsync(fixture);
        await db.LoadAsync(TestDatabase.Run("incoming/earlier.json"), ("1", """{"v":"kept"}"""));
        LoadRow[] rows = [("1", """{"v":"abandoned"}"""), ("2", """{"v":"abandoned"}"""), LoadRow.Reject("3", "bad")];

        await using (var load = await db.BeginAsync(TestDatabase.Run("incoming/abandoned.json")))
        {
            await SinkLoads.AddKeysAsync(load, rows);
            await load.EndKeysAsync();
            await SinkLoads.AddRecordsAsync(load, rows);
        }

        (await db.RecordsAsync()).Keys.Should().Equal("1");
        (await db.FieldAsync("1", "v")).Should().Be("kept");
        (await db.RejectsAsync()).Should().BeEmpty();
        (await db.RunsAsync()).Should().ContainSingle().Which.Source.Should().Be("incoming/earlier.json");
    }

    [Fact]
    public async Task A_record_that_is_not_json_fails_the_load_and_nothing_of_it_is_visible()
    {
        await using var db = await TestDatabase.CreateAsync(fixture);
        var run = TestDatabase.Run("incoming/broken.json");

        var act = () => db.LoadAsync(run, ("1", """{"v":1}"""), ("2", """{"v":"""));

        await act.Should().ThrowAsync<Npgsql.PostgresException>();
        (await db.RecordsAsync()).Should().BeEmpty();
        (await db.RunsAsync()).Should().BeEmpty();
    }

    [Fact]
    public async Task A_number_postgresql_cannot_store_is_refused_naming_the_record_index_past_rejects_and_duplicates()
    {
        await using var db = await TestDatabase.CreateAsync(fixture);

        var act = () => db.LoadAsync(
            TestDatabase.Run("incoming/overflow.json"),
            ("a", """{"v":1}"""), LoadRow.Reject(null, "bad"), ("a", """{"v":2}"""), ("b", """{"v":1e999999}"""));

        (await act.Should().ThrowAsync<RecordRefusedException>()).Which.RecordIndex.Should().Be(3);
    }

    [Fact]
    public async Task The_load_refuses_rows_out_of_the_protocol()
    {
        await using var db = await TestDatabase.CreateAsync(fixture);

        await using (var load = await db.BeginAsync(TestDatabase.Run("incoming/a.json")))
        {
            await load.AddKeyAsync(0, "a");
            await FluentActions.Awaiting(async () => await load.AddKeyAsync(2, "b")).Should().ThrowAsync<InvalidOperationException>().WithMessage("*expected 1, got 2*");
        }

        await using (var load = await db.BeginAsync(TestDatabase.Run("incoming/b.json")))
        {
            await load.AddKeyAsync(0, "a");
            await load.AddRejectAsync(1, null, "bad");
            await load.AddKeyAsync(2, "c");
            await load.EndKeysAsync();
            await FluentActions.Awaiting(async () => await load.AddRecordAsync(2, "c", TestDatabase.Json("{}"))).Should().ThrowAsync<InvalidOperationException>().WithMessage("*expected record 0, got 2*");
        }

        await using (var load = await db.BeginAsync(TestDatabase.Run("incoming/c.json")))
        {
            await load.AddKeyAsync(0, "a");
            await load.EndKeysAsync();
            await FluentActions.Awaiting(() => load.CompleteAsync()).Should().ThrowAsync<InvalidOperationException>().WithMessage("*ended at record 0; pass one had 1*");
        }

        (await db.RunsAsync()).Should().BeEmpty();
    }

    [Fact]
    public async Task A_completed_load_refuses_more_rows()
    {
        await using var db = await TestDatabase.CreateAsync(fixture);
        await using var load = await db.BeginAsync(TestDatabase.Run("incoming/a.json"));
        await load.EndKeysAsync();
        await load.CompleteAsync();

        var act = async () => await load.AddRecordAsync(0, "1", TestDatabase.Json("{}"));

        await act.Should().ThrowAsync<InvalidOperationException>();
    }

    [Fact]
    public async Task The_timings_of_the_load_come_back_in_its_result()
    {
        await using var db = await TestDatabase.CreateAsync(fixture);

        var result = await db.LoadAsync(TestDatabase.Run("incoming/a.json"), ("1", "{}"));

        result!.Timings.Should().NotBe(LoadTimings.None);
        new[] { result.Timings.CopyComplete, result.Timings.Replace, result.Timings.Commit }.Should().OnlyContain(s => s >= 0).And.Contain(s => s > 0);
    }
}
