using DataProcess.Core.Ports;
using DataProcess.Testing;
using Npgsql;

namespace DataProcess.Postgres.Tests;

public sealed class LoadFailureTests(PostgresFixture fixture) : IClassFixture<PostgresFixture>
{
    [Fact]
    public async Task A_load_abandoned_midway_leaves_nothing_then_the_failure_is_recorded_and_a_rerun_succeeds()
    {
        await using var db = await TestDatabase.CreateAsync(fixture);
        var run = TestDatabase.Run("incoming/a.json");

        var act = async () =>
        {
            await using var load = await db.BeginAsync(run);
            for (var index = 0; index < 5_000; index++)
            {
                await load.AddKeyAsync(index, $"id-{index}");
            }

            await load.EndKeysAsync();
            for (var index = 0; index < 5_000; index++)
            {
                await load.AddRecordAsync(index, $"id-{index}", TestDatabase.Json($$"""{"n":{{index}}}"""));
            }

            throw new InvalidDataException("record 5000 is not valid JSON");
        };
        await act.Should().ThrowAsync<InvalidDataException>();

        (await db.RecordsAsync()).Should().BeEmpty();
        (await db.RunsAsync()).Should().BeEmpty();

        await db.Sink.RecordFailureAsync(run, "record 5000 is not valid JSON");
        (await db.RunAsync(run.RunId)).Should().BeEquivalentTo(new
        {
            Status = "failed", Error = "record 5000 is not valid JSON", Records = (long?)null, Source = "incoming/a.json",
        });

        var rerun = TestDatabase.Run("incoming/a.json");
        (await db.LoadAsync(rerun, ("id-1", "{}"))).Should().BeEquivalentTo(new { Records = 1, Rejected = 0, Duplicates = 0 });
        (await db.RunAsync(rerun.RunId)).Status.Should().Be("succeeded");
    }

    [Fact]
    public async Task A_backend_killed_while_the_copy_is_open_fails_the_load_and_leaves_nothing_of_it()
    {
        await using var db = await TestDatabase.CreateAsync(fixture);
        await db.LoadAsync(TestDatabase.Run("incoming/earlier.json"), ("id-1", """{"v":"kept"}"""));
        var run = TestDatabase.Run("incoming/a.json");

        Exception? failure = null;
        await using (var load = await db.BeginAsync(run))
        {
            for (var index = 0; index < 200_000; index++)
            {
                await load.AddKeyAsync(index, $"id-{index}");
            }

            await load.EndKeysAsync();
            for (var index = 0; index < 1_000; index++)
            {
                await load.AddRecordAsync(index, $"id-{index}", TestDatabase.Json($$"""{"v":{{index}}}"""));
            }

            (await TerminateCopyBackendAsync(db.Name)).Should().Be(1);

            try
            {
                for (var index = 1_000; index < 200_000; index++)
                {
                    await load.AddRecordAsync(index, $"id-{index}", TestDatabase.Json($$"""{"v":{{index}}}"""));
                }

                await load.CompleteAsync();
            }
            catch (NpgsqlException exception)
            {
                failure = exception;
            }
        }

        failure.Should().NotBeNull("the load's backend was terminated");
        PostgresRecordSink.IsTransient(failure!).Should().BeTrue();
        (await db.RecordsAsync()).Keys.Should().Equal("id-1");
        (await db.FieldAsync("id-1", "v")).Should().Be("kept");
        (await db.RunsAsync()).Should().NotContain(r => r.RunId == run.RunId);

        await db.Sink.RecordFailureAsync(run, failure.Message);
        (await db.RunAsync(run.RunId)).Status.Should().Be("failed");

        var rerun = TestDatabase.Run("incoming/a.json");
        (await db.LoadAsync(rerun, ("id-1", """{"v":"rerun"}"""), ("id-2", "{}"))).Should().BeEquivalentTo(new { Records = 2, Rejected = 0, Duplicates = 0 });
        (await db.FieldAsync("id-1", "v")).Should().Be("rerun");
    }

    [Fact]
    public async Task A_retry_of_a_failed_run_id_succeeds_and_clears_the_error()
    {
        await using var db = await TestDatabase.CreateAsync(fixture);
        var run = TestDatabase.Run("incoming/a.json");
        await db.Sink.RecordFailureAsync(run, "connection reset");

        (await db.LoadAsync(run, ("1", "{}"))).Should().BeEquivalentTo(new { Records = 1, Rejected = 0, Duplicates = 0 });

        (await db.RunsAsync()).Should().ContainSingle().Which.Should().BeEquivalentTo(new { run.RunId, Status = "succeeded", Error = (string?)null, Records = 1L });
    }

    [Fact]
    public async Task A_retry_of_a_run_that_already_succeeded_changes_nothing()
    {
        await using var db = await TestDatabase.CreateAsync(fixture);
        var run = TestDatabase.Run("incoming/a.json");
        await db.LoadAsync(run, ("1", "{}"), ("2", "{}"));

        var retry = await db.Sink.BeginAsync(run, reprocess: true);

        retry.Should().Be(new LoadStart.Skipped(run.RunId), "even a forced reload never loads one run id twice");
        (await db.RunsAsync()).Should().ContainSingle().Which.Should().BeEquivalentTo(new { Status = "succeeded", Records = 2L });
    }

    [Fact]
    public async Task Recording_a_failure_never_overwrites_a_succeeded_run_and_truncates_long_errors()
    {
        await using var db = await TestDatabase.CreateAsync(fixture);
        var succeeded = TestDatabase.Run("incoming/a.json");
        await db.LoadAsync(succeeded, ("1", "{}"));
        var failed = TestDatabase.Run("incoming/b.json");

        await db.Sink.RecordFailureAsync(succeeded, "late failure report");
        await db.Sink.RecordFailureAsync(failed, new string('x', 5_000));

        (await db.RunAsync(succeeded.RunId)).Should().BeEquivalentTo(new { Status = "succeeded", Error = (string?)null });
        var failedRow = await db.RunAsync(failed.RunId);
        failedRow.Status.Should().Be("failed");
        failedRow.Error!.Length.Should().Be(PostgresRecordSink.MaxErrorLength);
    }

    [Fact]
    public async Task Two_runs_of_the_same_identity_at_once_load_exactly_once()
    {
        await using var db = await TestDatabase.CreateAsync(fixture);
        await using var otherProcess = PostgresRecordSink.Create(db.ConnectionString);
        var first = TestDatabase.Run("incoming/a.json", "etag-1");
        var second = TestDatabase.Run("incoming/a.json", "etag-1");

        await using var firstLoad = await db.BeginAsync(first);
        await firstLoad.AddKeyAsync(0, "1");

        var secondBegin = otherProcess.BeginAsync(second, reprocess: false);
        await fixture.WaitForLockWaitAsync(db.Name, "%pg_advisory_xact_lock%", secondBegin);

        await firstLoad.EndKeysAsync();
        await firstLoad.AddRecordAsync(0, "1", TestDatabase.Json("""{"by":"first"}"""));
        await firstLoad.CompleteAsync();
        var secondStart = await secondBegin;

        secondStart.Should().Be(new LoadStart.Skipped(first.RunId));
        (await db.RunAsync(first.RunId)).Status.Should().Be("succeeded");
        (await db.RunAsync(second.RunId)).Should().BeEquivalentTo(new { Status = "skipped", MatchedRunId = (Guid?)first.RunId });
        (await db.FieldAsync("1", "by")).Should().Be("first");
    }

    [Fact]
    public async Task A_run_waiting_for_another_load_of_its_dataset_can_be_cancelled_and_records_nothing()
    {
        await using var db = await TestDatabase.CreateAsync(fixture);
        await using var firstLoad = await db.BeginAsync(TestDatabase.Run("incoming/a.json"));
        var waiting = TestDatabase.Run("incoming/b.json");
        using var cancellation = new CancellationTokenSource();

        var begin = db.Sink.BeginAsync(waiting, reprocess: false, cancellation.Token);
        await fixture.WaitForLockWaitAsync(db.Name, "%pg_advisory_xact_lock%", begin);
        await cancellation.CancelAsync();

        await FluentActions.Awaiting(() => begin).Should().ThrowAsync<OperationCanceledException>();
        await SinkLoads.AddKeysAsync(firstLoad, [("1", "{}")]);
        await firstLoad.EndKeysAsync();
        await SinkLoads.AddRecordsAsync(firstLoad, [("1", "{}")]);
        (await firstLoad.CompleteAsync()).Should().BeEquivalentTo(new { Records = 1 });
        (await db.RunsAsync()).Should().ContainSingle().Which.Source.Should().Be("incoming/a.json");
    }

    [Fact]
    public async Task Many_concurrent_runs_of_one_identity_produce_one_load_and_the_rest_skipped()
    {
        await using var db = await TestDatabase.CreateAsync(fixture);
        var sinks = Enumerable.Range(0, 4).Select(_ => PostgresRecordSink.Create(db.ConnectionString)).ToList();
        try
        {
            var outcomes = await Task.WhenAll(sinks.Select(sink => Task.Run(async () =>
            {
                var run = TestDatabase.Run("incoming/a.json", "etag-1");
                var rows = Enumerable.Range(0, 2_000).Select(index => (LoadRow)($"id-{index}", $$"""{"run":"{{run.RunId}}"}""")).ToArray();
                return await SinkLoads.LoadAsync(sink, run, rows) is null ? "skipped" : "loaded";
            })));

            outcomes.Count(o => o == "loaded").Should().Be(1);
            outcomes.Count(o => o == "skipped").Should().Be(3);
            (await db.RunsAsync()).Select(r => r.Status).Should().BeEquivalentTo(["succeeded", "skipped", "skipped", "skipped"]);
            (await db.ScalarAsync<long>("SELECT count(*) FROM dataprocess.records")).Should().Be(2_000);
        }
        finally
        {
            foreach (var sink in sinks)
            {
                await sink.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Connection_and_server_shutdown_errors_are_transient_and_bad_data_is_not()
    {
        await using var db = await TestDatabase.CreateAsync(fixture);
        var badJson = async () =>
        {
            await using var command = db.DataSource.CreateCommand("SELECT '{'::jsonb");
            await command.ExecuteScalarAsync();
        };
        var refused = async () =>
        {
            await using var connection = new NpgsqlConnection("Host=/nonexistent-socket-dir;Pooling=false;Timeout=2");
            await connection.OpenAsync();
        };

        PostgresRecordSink.IsTransient((await badJson.Should().ThrowAsync<PostgresException>()).Which).Should().BeFalse();
        PostgresRecordSink.IsTransient((await refused.Should().ThrowAsync<NpgsqlException>()).Which).Should().BeTrue();
        PostgresRecordSink.IsTransient(new PostgresException("terminating connection due to administrator command", "FATAL", "FATAL", "57P01")).Should().BeTrue();
        PostgresRecordSink.IsTransient(new PostgresException("too many clients", "FATAL", "FATAL", "53300")).Should().BeTrue();
        PostgresRecordSink.IsTransient(new PostgresException("deadlock detected", "ERROR", "ERROR", "40P01")).Should().BeTrue();
        PostgresRecordSink.IsTransient(new PostgresException("duplicate key", "ERROR", "ERROR", "23505")).Should().BeFalse();
    }

    private async Task<int> TerminateCopyBackendAsync(string database)
    {
        await using var connection = new NpgsqlConnection(fixture.AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            """
            SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int FROM pg_stat_activity
            WHERE datname = @database AND query LIKE 'COPY %' AND state = 'active'
            """,
            connection);
        command.Parameters.AddWithValue("database", database);
        return (int)(await command.ExecuteScalarAsync())!;
    }
}
