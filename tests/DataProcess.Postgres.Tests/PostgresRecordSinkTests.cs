using DataProcess.Core.Ports;
using System.Text.Json;
using DataProcess.Testing;

namespace DataProcess.Postgres.Tests;

public sealed class PostgresRecordSinkTests(PostgresFixture fixture) : IClassFixture<PostgresFixture>
{
    [Fact]
    public async Task A_load_writes_every_record_and_a_succeeded_run_with_its_counts()
    {
        await using var db = await TestDatabase.CreateAsync(fixture);
        var run = TestDatabase.Run("incoming/a.json");

        var result = await db.LoadAsync(run, ("1", """{"id":"1","name":"Ann"}"""), ("2", """{"id":"2","name":"Bob"}"""));

        result.Should().Be(new LoadResult(2, 0, 0));
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
            Records = 2L, Rejected = 0L, Duplicates = 0L, Error = (string?)null,
        });
        ledger.FinishedAt.Should().NotBeNull();
        ledger.StartedAt.Should().BeCloseTo(run.StartedAt, TimeSpan.FromMilliseconds(1));
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
    public async Task A_later_file_upserts_the_rows_of_an_earlier_one()
    {
        await using var db = await TestDatabase.CreateAsync(fixture);
        var first = TestDatabase.Run("incoming/day1.json");
        var second = TestDatabase.Run("incoming/day2.json");

        await db.LoadAsync(first, ("1", """{"v":"old"}"""), ("2", """{"v":"old"}"""));
        var result = await db.LoadAsync(second, ("2", """{"v":"new"}"""), ("3", """{"v":"new"}"""));

        result.Should().Be(new LoadResult(2, 0, 0));
        var records = await db.RecordsAsync();
        records.Keys.Should().Equal("1", "2", "3");
        (await db.FieldAsync("1", "v")).Should().Be("old");
        (await db.FieldAsync("2", "v")).Should().Be("new");
        records["1"].RunId.Should().Be(first.RunId);
        records["2"].Should().Match<RecordRow>(r => r.RunId == second.RunId && r.Source == "incoming/day2.json");
        records["3"].RunId.Should().Be(second.RunId);
    }

    [Fact]
    public async Task Within_one_file_the_last_duplicate_wins_and_duplicates_are_counted()
    {
        await using var db = await TestDatabase.CreateAsync(fixture);
        var run = TestDatabase.Run("incoming/dups.json");

        var result = await db.LoadAsync(
            run,
            ("a", """{"v":1}"""), ("b", """{"v":1}"""), ("a", """{"v":2}"""), ("c", """{"v":1}"""), ("a", """{"v":3}"""), ("b", """{"v":2}"""));

        result.Should().Be(new LoadResult(3, 0, 3));
        (await db.FieldAsync("a", "v")).Should().Be("3");
        (await db.FieldAsync("b", "v")).Should().Be("2");
        (await db.RunAsync(run.RunId)).Should().Match<RunRow>(r => r.Records == 3 && r.Duplicates == 3);
    }

    [Fact]
    public async Task Replaying_the_same_source_and_etag_is_skipped_and_changes_no_record()
    {
        await using var db = await TestDatabase.CreateAsync(fixture);
        var original = TestDatabase.Run("incoming/a.json", "etag-1");
        await db.LoadAsync(original, ("1", """{"v":"original"}"""));
        var before = await db.RecordsAsync();

        var replay = TestDatabase.Run("incoming/a.json", "etag-1");
        var load = await db.Sink.BeginAsync(replay);

        load.Should().BeNull();
        (await db.RecordsAsync()).Should().BeEquivalentTo(before);
        (await db.RunAsync(original.RunId)).Status.Should().Be("succeeded");
        (await db.RunAsync(replay.RunId)).Should().BeEquivalentTo(new
        {
            Status = "skipped", Source = "incoming/a.json", SourceETag = "etag-1", Records = 0L, Rejected = 0L, Duplicates = 0L,
        });
        (await db.RunAsync(replay.RunId)).FinishedAt.Should().NotBeNull();
        (await db.RejectsAsync()).Should().BeEmpty();
    }

    [Fact]
    public async Task The_same_source_with_a_new_etag_loads_again()
    {
        await using var db = await TestDatabase.CreateAsync(fixture);
        await db.LoadAsync(TestDatabase.Run("incoming/a.json", "etag-1"), ("1", """{"v":1}"""));
        var changed = TestDatabase.Run("incoming/a.json", "etag-2");

        var result = await db.LoadAsync(changed, ("1", """{"v":2}"""));

        result.Should().Be(new LoadResult(1, 0, 0));
        (await db.FieldAsync("1", "v")).Should().Be("2");
        (await db.RunsAsync()).Select(r => r.Status).Should().Equal("succeeded", "succeeded");
    }

    [Fact]
    public async Task The_same_source_version_in_another_dataset_is_not_skipped()
    {
        await using var db = await TestDatabase.CreateAsync(fixture);
        await db.LoadAsync(TestDatabase.Run("incoming/a.json", "etag-1", dataset: "customers"), ("1", "{}"));

        var result = await db.LoadAsync(TestDatabase.Run("incoming/a.json", "etag-1", dataset: "orders"), ("1", "{}"));

        result.Should().Be(new LoadResult(1, 0, 0));
        (await db.RecordsAsync("orders")).Keys.Should().Equal("1");
    }

    [Fact]
    public async Task Rejects_are_stored_with_their_reasons_and_counted()
    {
        await using var db = await TestDatabase.CreateAsync(fixture);
        var run = TestDatabase.Run("incoming/mixed.json");

        await using (var load = await db.Sink.BeginAsync(run))
        {
            await load!.AddRecordAsync(0, "1", TestDatabase.Json("""{"v":1}"""));
            await load.AddRejectAsync(1, "2", "missing required field 'email'");
            await load.AddRecordAsync(2, "3", TestDatabase.Json("""{"v":3}"""));
            await load.AddRejectAsync(3, null, "missing id");
            (await load.CompleteAsync()).Should().Be(new LoadResult(2, 2, 0));
        }

        (await db.RecordsAsync()).Keys.Should().Equal("1", "3");
        (await db.RejectsAsync()).Should().Equal(
            new RejectRow(run.RunId, 1, "2", "missing required field 'email'"),
            new RejectRow(run.RunId, 3, null, "missing id"));
        (await db.RunAsync(run.RunId)).Should().Match<RunRow>(r => r.Records == 2 && r.Rejected == 2 && r.Status == "succeeded");
    }

    [Fact]
    public async Task Disposing_a_load_without_completing_it_leaves_no_record_reject_or_run()
    {
        await using var db = await TestDatabase.CreateAsync(fixture);
        await db.LoadAsync(TestDatabase.Run("incoming/earlier.json"), ("1", """{"v":"kept"}"""));

        await using (var load = await db.Sink.BeginAsync(TestDatabase.Run("incoming/abandoned.json")))
        {
            await load!.AddRecordAsync(0, "1", TestDatabase.Json("""{"v":"abandoned"}"""));
            await load.AddRecordAsync(1, "2", TestDatabase.Json("""{"v":"abandoned"}"""));
            await load.AddRejectAsync(2, "3", "bad");
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
    public async Task A_completed_load_refuses_more_rows()
    {
        await using var db = await TestDatabase.CreateAsync(fixture);
        await using var load = await db.Sink.BeginAsync(TestDatabase.Run("incoming/a.json"));
        await load!.CompleteAsync();

        var act = async () => await load.AddRecordAsync(0, "1", TestDatabase.Json("{}"));

        await act.Should().ThrowAsync<InvalidOperationException>();
    }
}
