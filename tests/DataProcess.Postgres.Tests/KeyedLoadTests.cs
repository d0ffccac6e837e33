using DataProcess.Core.Ports;
using DataProcess.Testing;

namespace DataProcess.Postgres.Tests;

/// <summary>The two-pass load Consolidation uses (keys first, then records straight into the table) keeps the upsert's promises.</summary>
public sealed class KeyedLoadTests(PostgresFixture fixture) : IClassFixture<PostgresFixture>
{
    /// <summary>Rows: (id, json) for a record, (id or null, null) with a reason for a reject.</summary>
    private static async Task<LoadResult?> LoadInTwoPassesAsync(TestDatabase db, RunDescriptor run, bool complete, params (string? Id, string? Json, string? Reason)[] rows)
    {
        await using var begun = await db.Sink.BeginAsync(run);
        if (begun is null)
        {
            return null;
        }

        var load = begun.Should().BeAssignableTo<IKeyedRunLoad>().Subject;
        for (var index = 0; index < rows.Length; index++)
        {
            if (rows[index].Reason is { } reason)
            {
                await load.AddRejectAsync(index, rows[index].Id, reason);
            }
            else
            {
                await load.AddKeyAsync(index, rows[index].Id!);
            }
        }

        await load.EndKeysAsync();
        for (var index = 0; index < rows.Length; index++)
        {
            if (rows[index].Reason is { } reason)
            {
                await load.AddRejectAsync(index, rows[index].Id, reason);
            }
            else
            {
                await load.AddRecordAsync(index, rows[index].Id!, TestDatabase.Json(rows[index].Json!));
            }
        }

        return complete ? await load.CompleteAsync() : null;
    }

    [Fact]
    public async Task The_last_duplicate_wins_duplicates_are_counted_and_rejects_are_kept()
    {
        await using var db = await TestDatabase.CreateAsync(fixture);
        var run = TestDatabase.Run("incoming/dups.json");

        var result = await LoadInTwoPassesAsync(
            db, run, complete: true,
            ("a", """{"v":1}""", null), ("b", """{"v":1}""", null), (null, null, "the id 'id' is missing"), ("a", """{"v":2}""", null),
            ("c", """{"v":1}""", null), ("a", """{"v":3}""", null), ("b", """{"v":2}""", null), ("d", null, "field 'x' is an object; hash expects a string or number"));

        result.Should().Be(new LoadResult(3, 2, 3));
        (await db.RecordsAsync()).Keys.Should().Equal("a", "b", "c");
        (await db.FieldAsync("a", "v")).Should().Be("3");
        (await db.FieldAsync("b", "v")).Should().Be("2");
        (await db.RunAsync(run.RunId)).Should().Match<RunRow>(r => r.Status == "succeeded" && r.Records == 3 && r.Rejected == 2 && r.Duplicates == 3);
        (await db.RejectsAsync()).Select(r => (r.RecordIndex, r.RecordId)).Should().Equal((2L, (string?)null), (7L, "d"));
        (await db.ScalarAsync<bool>("SELECT bool_and(loaded_at = (SELECT loaded_at FROM dataprocess.records LIMIT 1)) FROM dataprocess.records")).Should().BeTrue();
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
        var result = await LoadInTwoPassesAsync(db, second, complete: true, ("2", """{"v":"new"}""", null), ("3", """{"v":"new"}""", null), ("2", """{"v":"newer"}""", null));

        result.Should().Be(new LoadResult(2, 0, 1));
        var records = await db.RecordsAsync();
        records.Keys.Should().Equal("1", "2", "3");
        (await db.FieldAsync("1", "v")).Should().Be("old");
        (await db.FieldAsync("2", "v")).Should().Be("newer");
        records["1"].RunId.Should().Be(first.RunId);
        records["2"].Should().Match<RecordRow>(r => r.RunId == second.RunId && r.Source == "incoming/day2.json");
        (await db.FieldAsync("2", "v", dataset: "orders")).Should().Be("orders");
    }

    [Fact]
    public async Task A_load_disposed_before_completing_changes_nothing()
    {
        await using var db = await TestDatabase.CreateAsync(fixture);
        await db.LoadAsync(TestDatabase.Run("incoming/day1.json"), ("1", """{"v":"old"}"""));

        await LoadInTwoPassesAsync(db, TestDatabase.Run("incoming/day2.json"), complete: false, ("1", """{"v":"new"}""", null), ("2", "{}", null));

        (await db.RecordsAsync()).Keys.Should().Equal("1");
        (await db.FieldAsync("1", "v")).Should().Be("old");
        (await db.RunsAsync()).Should().ContainSingle();
    }
}
