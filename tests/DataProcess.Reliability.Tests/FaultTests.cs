using DataProcess.Cli.Samples;
using DataProcess.DatabaseFunctions;
using DataProcess.Local;
using DataProcess.Core.Payloads;
using DataProcess.Core.Ports;
using DataProcess.Postgres;
using DataProcess.Testing;
using Npgsql;

namespace DataProcess.Reliability.Tests;

/// <summary>
/// Matrix section 5: the database or the disk fails under a run. The run fails cleanly (one <c>error:</c> line,
/// exit 1), nothing of it is half-loaded, and the next run works.
/// </summary>
public sealed class FaultTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>, IDisposable
{
    private const string Profile = """{"dataset":"customers","records":"$.result","id":"id","require":["email"],"anonymize":{"email":"hash","name":"hash","phone":"mask"}}""";
    private readonly CliHarness _cli = new();

    [Fact]
    public async Task A_database_on_a_closed_port_fails_the_run_with_one_clear_error_line()
    {
        var input = _cli.File("input.json", """[{"id":1,"email":"a@example.org"}]""");

        var run = await _cli.RunAsync("Host=127.0.0.1;Port=1;Database=dataprocess;Username=postgres;Timeout=5", "run", input, "--profile", _cli.Profile());

        run.ExitCode.Should().Be(1);
        run.ErrorLines.Should().ContainSingle().Which.Should().StartWith("error: PostgreSQL: ").And.Contain("127.0.0.1:1").And.NotContain("   at ");
        _cli.LeftoverFiles().Should().BeEmpty("the database is checked before anything is staged");
    }

    [Fact]
    public async Task A_database_socket_directory_that_does_not_exist_fails_the_run_with_one_clear_error_line()
    {
        var input = _cli.File("input.json", """[{"id":1,"email":"a@example.org"}]""");

        var run = await _cli.RunAsync("Host=/nonexistent/dataprocess-socket;Database=dataprocess;Username=postgres;Timeout=5", "run", input, "--profile", _cli.Profile());

        run.ExitCode.Should().Be(1);
        run.ErrorLines.Should().ContainSingle().Which.Should().StartWith("error: PostgreSQL: ").And.Contain("/nonexistent/dataprocess-socket").And.NotContain("   at ");
        _cli.LeftoverFiles().Should().BeEmpty("the database is checked before anything is staged");
    }

    [Fact]
    public async Task A_backend_killed_mid_copy_fails_the_run_without_a_row_and_a_rerun_succeeds()
    {
        var database = await postgres.CreateDatabaseAsync();
        var databaseName = new NpgsqlConnectionStringBuilder(database).Database!;
        var input = Path.Combine(_cli.Directory, "big.json");
        await using (var stream = File.Create(input))
        {
            await CustomerGenerator.WriteAsync(stream, new GeneratorOptions { Seed = 7, Records = 20_000 }, CancellationToken.None);
        }

        var profile = _cli.Profile(Profile);

        // An uncommitted row with the id of a record in the middle of the file: the load's COPY into records stops
        // there and waits for this transaction, so the test terminates the backend at that exact point.
        var middle = System.Text.RegularExpressions.Regex.Matches(await File.ReadAllTextAsync(input), "\"id\":\"([^\"]+)\"")[10_000].Groups[1].Value;
        await SchemaMigrator.MigrateAsync(database);
        await using (var blocker = new NpgsqlConnection(database))
        {
            await blocker.OpenAsync();
            await using (var command = new NpgsqlCommand("BEGIN; INSERT INTO dataprocess.records VALUES ('customers', @id, '{}', 'blocker', gen_random_uuid(), now())", blocker))
            {
                command.Parameters.AddWithValue("id", middle);
                await command.ExecuteNonQueryAsync();
            }

            var running = Task.Run(() => _cli.RunAsync(database, "run", input, "--profile", profile));
            var pid = await postgres.WaitForLockWaitAsync(databaseName, "COPY dataprocess.records %", running);
            (await PostgresFixture.ScalarAsync<bool>(postgres.AdminConnectionString, $"SELECT pg_terminate_backend({pid})")).Should().BeTrue();
            var run = await running;

            run.ExitCode.Should().Be(1, run.Output);
            run.ErrorLines.Should().ContainSingle().Which.Should().StartWith("error: PostgreSQL: ");
        }

        (await Ledger.RecordsAsync(database)).Should().Be(0, "the killed transaction rolled back");
        (await Ledger.RunsAsync(database)).Should().ContainSingle().Which.Status.Should().Be("failed");
        _cli.LeftoverFiles().Should().BeEmpty();

        var rerun = await _cli.RunAsync(database, "run", input, "--profile", profile, "--json");

        rerun.ExitCode.Should().Be(0, rerun.Error);
        rerun.Output.Should().Contain("\"status\":\"succeeded\"");
        (await Ledger.RecordsAsync(database)).Should().BeGreaterThan(10_000);
    }

    [Fact]
    public async Task Consolidation_with_a_staging_output_missing_fails_naming_the_object_and_loads_nothing()
    {
        var database = await postgres.CreateDatabaseAsync();
        await SchemaMigrator.MigrateAsync(database);
        var store = new DirectoryObjectStore(Path.Combine(_cli.Directory, "store"));
        var profile = new ObjectRef("profiles", "customers.json");
        await store.WriteAsync(profile, (s, ct) => s.WriteAsync(System.Text.Encoding.UTF8.GetBytes(Profile), ct).AsTask());
        var runId = Guid.NewGuid();
        var staging = new StagingLocation("staging", "runs");
        var profileHash = Core.Profiles.ProfileLoader.Parse(System.Text.Encoding.UTF8.GetBytes(Profile), "customers.json").Hash;
        var request = new ConsolidationRequest
        {
            RunId = runId,
            StartedAt = DateTimeOffset.UtcNow,
            Source = new ObjectRef("source", "customers.json"),
            SourceETag = "etag",
            Profile = profile,
            Staging = staging,
            Stages =
            [
                new StageResult { RunId = runId, Stage = "enrichment", Output = staging.For(runId, "enrichment"), Records = 1, Rejected = 0, BytesRead = 10, Seconds = 0, ProfileHash = profileHash },
                new StageResult { RunId = runId, Stage = "anonymization", Output = staging.For(runId, "anonymization"), Records = 1, Rejected = 0, BytesRead = 10, Seconds = 0, ProfileHash = profileHash, KeyFingerprint = "key" },
            ],
        };
        await using var sink = PostgresRecordSink.Create(database);
        var consolidation = new ConsolidationFunction(store, sink);

        var act = () => PayloadSerializer.InvokeAsync(consolidation.HandleAsync, request, PayloadJsonContext.Default.ConsolidationRequest, PayloadJsonContext.Default.RunSummary);

        (await act.Should().ThrowAsync<ObjectNotFoundException>()).Which.Message.Should().Be($"object staging/runs/{runId:D}/anonymization.ndjson does not exist");
        (await Ledger.RecordsAsync(database)).Should().Be(0);
        (await Ledger.RunsAsync(database)).Should().BeEmpty("the state machine's failure path records the run, not Consolidation");
        (await PostgresFixture.ScalarAsync<long>(database, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")).Should().Be(0, "the dataset's load lock went with the rolled-back transaction");
    }

    [Fact]
    public async Task A_full_disk_while_staging_fails_the_run_cleanly_and_leaves_no_staging_object()
    {
        var database = await postgres.CreateDatabaseAsync();
        await SchemaMigrator.MigrateAsync(database);
        var input = _cli.File("customers.json", "{\"result\":[" + string.Join(",\n", Enumerable.Range(0, 2000).Select(i => $$"""{"id":"c{{i}}","email":"c{{i}}@example.org","name":"Name {{i}}"}""")) + "]}");
        var profile = _cli.Profile(Profile);
        await using var sink = PostgresRecordSink.Create(database);
        var pipeline = new Cli.LocalPipeline(sink, new LocalHmacKeySource(null, _ => _cli.Key), _cli.LocalDirectory, store => DiskFull(store, capacity: 16 * 1024));

        var act = () => pipeline.RunAsync(input, profile, new Cli.RunProgress(), CancellationToken.None);

        (await act.Should().ThrowAsync<IOException>()).Which.Message.Should().Be("No space left on device");
        var ledger = (await Ledger.RunsAsync(database)).Should().ContainSingle().Subject;
        ledger.Status.Should().Be("failed");
        ledger.Error.Should().Be("No space left on device");
        (await Ledger.RecordsAsync(database)).Should().Be(0);
        _cli.LeftoverFiles().Should().BeEmpty("neither the partial output nor the other stage's output may stay behind");
    }

    public void Dispose() => _cli.Dispose();

    /// <summary>
    /// The object store of a machine whose disk fills up: writes throw IOException("No space left on device")
    /// once <paramref name="capacity"/> bytes of staging output were written, as a real full disk would.
    /// </summary>
    private static WriteHookedStore DiskFull(IObjectStore inner, long capacity)
    {
        long written = 0;
        return new WriteHookedStore(inner, (_, count) =>
        {
            if (Interlocked.Add(ref written, count) > capacity)
            {
                throw new IOException("No space left on device");
            }
        });
    }
}
