using System.Diagnostics;
using DataProcess.Local;
using DataProcess.Postgres;
using DataProcess.Testing;
using Npgsql;

namespace DataProcess.Reliability.Tests;

/// <summary>
/// Matrix section 8: a run stopped at any stage — Ctrl-C or SIGTERM, or killed outright — leaves nothing half-done:
/// no record of it in <c>dataprocess.records</c> (earlier rows untouched), no reject, a <c>failed</c> ledger row with
/// the reason "cancelled" (none for a SIGKILL, which cannot record anything), and nothing in the local store once the
/// next run started. Each cell stops the run at an exact point, without timing: a hook at the first byte a stage
/// writes, or a lock the test holds in PostgreSQL that the run must wait for at that statement.
/// </summary>
public sealed class KillTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>, IDisposable
{
    private const string Profile = """{"dataset":"people","id":"id","require":["email"],"anonymize":{"email":"hash"}}""";
    private readonly CliHarness _cli = new();

    [Fact]
    public async Task A_run_cancelled_during_enrichment_is_recorded_cancelled_and_leaves_no_partial_output()
    {
        var database = await postgres.CreateDatabaseAsync();
        await SchemaMigrator.MigrateAsync(database);
        var input = _cli.File("people.json", People(2_000));
        await using var sink = PostgresRecordSink.Create(database);
        using var stop = new CancellationTokenSource();
        string? partial = null;
        var pipeline = new Cli.LocalPipeline(sink, new LocalHmacKeySource(null, _ => _cli.Key), _cli.LocalDirectory, store => new WriteHookedStore(store, (obj, _) =>
        {
            if (obj.Key.EndsWith("enrichment.ndjson", StringComparison.Ordinal) && Interlocked.CompareExchange(ref partial, string.Empty, null) is null)
            {
                // The stage's output exists as a partial file at this point; the cancellation must remove it.
                partial = _cli.LeftoverFiles().Single(f => f.EndsWith(".partial", StringComparison.Ordinal) && f.Contains("enrichment.ndjson", StringComparison.Ordinal));
                stop.Cancel();
            }
        }));

        var act = () => pipeline.RunAsync(input, _cli.Profile(Profile), new Cli.RunProgress(), stop.Token);

        await act.Should().ThrowAsync<Cli.RunCancelledException>();
        partial.Should().EndWith(".partial");
        await AssertCancelledAsync(database, recordsBefore: 0);
    }

    [Fact]
    public async Task A_run_cancelled_during_the_copy_into_records_is_recorded_cancelled_and_leaves_the_earlier_rows()
    {
        var database = await postgres.CreateDatabaseAsync();
        (await _cli.RunAsync(database, "run", _cli.File("earlier.json", """[{"id":"e1","email":"e@example.org"}]"""), "--profile", _cli.Profile(Profile))).ExitCode.Should().Be(0);
        var input = _cli.File("people.json", People(2_000));

        // An uncommitted row with an id of the file: the COPY waits for this transaction at that row.
        var run = await RunStoppedAtAsync(database, input, "INSERT INTO dataprocess.records VALUES ('people', 'p1000', '{}', 'blocker', gen_random_uuid(), now())", "COPY dataprocess.records %");

        AssertStoppedBySigint(run);
        await AssertCancelledAsync(database, recordsBefore: 1);
    }

    [Fact]
    public async Task A_run_cancelled_between_the_copy_and_the_commit_is_recorded_cancelled_and_leaves_the_earlier_rows()
    {
        var database = await postgres.CreateDatabaseAsync();
        (await _cli.RunAsync(database, "run", _cli.File("earlier.json", """[{"id":"e1","email":"e@example.org"}]"""), "--profile", _cli.Profile(Profile))).ExitCode.Should().Be(0);
        var input = _cli.File("people.json", People(2_000).Replace("\"email\":\"p7@example.org\"", "\"x\":1", StringComparison.Ordinal)); // one reject

        // Every record is in the table (uncommitted) when the load writes its rejects: it waits there, before the commit.
        var run = await RunStoppedAtAsync(database, input, "LOCK TABLE dataprocess.rejects IN ACCESS EXCLUSIVE MODE", "INSERT INTO dataprocess.rejects %", async () =>
            (await PostgresFixture.ScalarAsync<long>(database, "SELECT count(*) FROM dataprocess.records")).Should().Be(1, "the loaded rows are not visible before the commit"));

        AssertStoppedBySigint(run);
        await AssertCancelledAsync(database, recordsBefore: 1);
    }

    [Theory]
    [InlineData("TERM", 143)]
    [InlineData("INT", 130)]
    public async Task A_signal_to_the_cli_process_is_handled_like_ctrl_c_recorded_cancelled_and_leaves_nothing(string signal, int exitCode)
    {
        var database = await postgres.CreateDatabaseAsync();
        var input = _cli.File("people.json", People(2_000));

        // The dataset's load lock, held here: the process stages both outputs, then waits for it.
        await using var loadLock = await HoldLoadLockAsync(database);
        using var process = StartCli(database, input);
        await postgres.WaitForLockWaitAsync(DatabaseName(database), "%pg_advisory_xact_lock%", process.WaitForExitAsync());
        _cli.LeftoverFiles().Where(f => f.EndsWith(".ndjson", StringComparison.Ordinal)).Should().HaveCount(2, "both stages finished");

        Signal(process, signal);
        var (exit, error) = await WaitForExitAsync(process);

        exit.Should().Be(exitCode, error);
        var run = (await Ledger.RunsAsync(database)).Should().ContainSingle().Subject;
        error.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().ContainSingle()
            .Which.Should().Be($"error: stopped by SIG{signal}: run {run.RunId:D} is recorded as failed (cancelled) and loaded nothing");
        await AssertCancelledAsync(database, recordsBefore: 0);
    }

    [Fact]
    public async Task What_a_killed_process_left_in_the_store_is_removed_at_the_next_start()
    {
        var database = await postgres.CreateDatabaseAsync();
        var input = _cli.File("people.json", People(500));
        await using (var loadLock = await HoldLoadLockAsync(database))
        {
            using var process = StartCli(database, input);
            await postgres.WaitForLockWaitAsync(DatabaseName(database), "%pg_advisory_xact_lock%", process.WaitForExitAsync());
            process.Kill();
            await process.WaitForExitAsync();
        }

        var runDirectory = _cli.LeftoverDirectories().Should().ContainSingle(d => IsRunDirectory(d)).Subject;
        File.WriteAllText(Path.Combine(runDirectory, "anonymization.ndjson.0a1b.partial"), "{\"i\":0");
        Directory.CreateDirectory(Path.Combine(Path.GetDirectoryName(runDirectory)!, Guid.NewGuid().ToString("D")));
        _cli.LeftoverFiles().Should().Contain(f => f.EndsWith(".lock", StringComparison.Ordinal), "a SIGKILL leaves its claim behind, unheld");
        (await Ledger.RunsAsync(database)).Should().BeEmpty("a killed process records nothing, and loaded nothing");

        var next = await _cli.RunAsync(database, "run", _cli.File("next.json", People(3)), "--profile", _cli.Profile(Profile));

        next.ExitCode.Should().Be(0, next.Error);
        _cli.LeftoverFiles().Should().BeEmpty();
        _cli.LeftoverDirectories().Should().BeEmpty();
    }

    [Fact]
    public async Task A_run_starting_beside_a_live_one_leaves_the_live_runs_staging_alone()
    {
        var database = await postgres.CreateDatabaseAsync();
        var input = _cli.File("people.json", People(500));
        Task<CliRun> waiting;
        await using (var loadLock = await HoldLoadLockAsync(database))
        {
            waiting = Task.Run(() => _cli.RunAsync(database, "run", input, "--profile", _cli.Profile(Profile)));
            await postgres.WaitForLockWaitAsync(DatabaseName(database), "%pg_advisory_xact_lock%", waiting);
            var staged = _cli.LeftoverFiles().Where(f => f.EndsWith(".ndjson", StringComparison.Ordinal)).ToList();

            var other = await _cli.RunAsync(database, "run", _cli.File("other.json", People(3)), "--profile", _cli.Profile(Profile.Replace("people", "others", StringComparison.Ordinal), "others.profile.json"));

            other.ExitCode.Should().Be(0, other.Error);
            staged.Should().HaveCount(2).And.OnlyContain(f => File.Exists(f), "the waiting run still holds its claim");
        }

        (await waiting).ExitCode.Should().Be(0);
        (await Ledger.RunsAsync(database)).Select(r => r.Status).Should().Equal("succeeded", "succeeded");
        _cli.LeftoverFiles().Should().BeEmpty();
    }

    public void Dispose() => _cli.Dispose();

    /// <summary>Records p0, p1, … with emails: every record loads.</summary>
    private static string People(int count) =>
        "[" + string.Join(",\n", Enumerable.Range(0, count).Select(i => $$"""{"id":"p{{i}}","email":"p{{i}}@example.org","name":"Person {{i}}"}""")) + "]";

    private static bool IsRunDirectory(string directory) => Guid.TryParse(Path.GetFileName(directory), out _);

    private static string DatabaseName(string database) => new NpgsqlConnectionStringBuilder(database).Database!;

    private static void AssertStoppedBySigint(CliRun run)
    {
        run.ExitCode.Should().Be(130, run.Error);
        run.ErrorLines.Should().ContainSingle().Which.Should().MatchRegex("^error: stopped by SIGINT: run [0-9a-f-]{36} is recorded as failed \\(cancelled\\) and loaded nothing$");
    }

    /// <summary>The run's promise: a failed ledger row "cancelled", no record or reject of it, nothing in the store.</summary>
    private async Task AssertCancelledAsync(string database, long recordsBefore)
    {
        var cancelled = (await Ledger.RunsAsync(database)).Should().ContainSingle(r => r.Status != "succeeded").Subject;
        cancelled.Status.Should().Be("failed");
        cancelled.Error.Should().Be("cancelled");
        (await Ledger.RecordsAsync(database)).Should().Be(recordsBefore);
        (await PostgresFixture.ScalarAsync<long>(database, $"SELECT count(*) FROM dataprocess.records WHERE run_id = '{cancelled.RunId}'")).Should().Be(0);
        (await Ledger.RejectsAsync(database)).Should().BeEmpty();
        _cli.LeftoverFiles().Should().BeEmpty("no staging output, no partial file, no claim");
        _cli.LeftoverDirectories().Should().BeEmpty("no run directory");
    }

    /// <summary>
    /// Runs the CLI in-process while the test holds <paramref name="blockSql"/> open, waits until the run waits on it in a
    /// statement like <paramref name="statementLike"/>, cancels the run there (what Ctrl-C does) and lets it go on.
    /// </summary>
    private async Task<CliRun> RunStoppedAtAsync(string database, string input, string blockSql, string statementLike, Func<Task>? whileStopped = null)
    {
        await using var blocker = await BlockAsync(database, blockSql);
        using var stop = new CancellationTokenSource();
        var running = Task.Run(() => _cli.RunAsync(database, _cli.Key, stop.Token, "run", input, "--profile", _cli.Profile(Profile)));
        await postgres.WaitForLockWaitAsync(DatabaseName(database), statementLike, running);
        if (whileStopped is not null)
        {
            await whileStopped();
        }

        await stop.CancelAsync();
        await blocker.DisposeAsync();
        return await running;
    }

    /// <summary>Runs <paramref name="sql"/> in a transaction that stays open until the returned connection is disposed.</summary>
    private static async Task<NpgsqlConnection> BlockAsync(string database, string sql)
    {
        await SchemaMigrator.MigrateAsync(database);
        var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using (var command = new NpgsqlCommand("BEGIN; " + sql, connection))
        {
            await command.ExecuteNonQueryAsync();
        }

        return connection;
    }

    /// <summary>Holds the load lock of the dataset "people" (what <see cref="PostgresRecordSink.BeginAsync"/> takes) until disposed.</summary>
    private static async Task<NpgsqlConnection> HoldLoadLockAsync(string database)
    {
        await SchemaMigrator.MigrateAsync(database);
        var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT pg_advisory_lock(hashtextextended('dataprocess:people', 0))", connection);
        await command.ExecuteNonQueryAsync();
        return connection;
    }

    /// <summary>The built CLI (<c>dataprocess.dll</c> of this configuration) as a process of its own.</summary>
    private Process StartCli(string database, string input)
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { Repository.File($"src/DataProcess.Cli/bin/{configuration}/net10.0/dataprocess.dll"), "run", input, "--profile", _cli.Profile(Profile) },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = _cli.Directory,
        };
        foreach (var (name, value) in _cli.Environment(database, _cli.Key).Where(v => v.Value is not null))
        {
            start.Environment[name] = value;
        }

        return Process.Start(start)!;
    }

    private static void Signal(Process process, string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { $"-{signal}", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) } })!;
        kill.WaitForExit();
        kill.ExitCode.Should().Be(0);
    }

    private static async Task<(int ExitCode, string Error)> WaitForExitAsync(Process process)
    {
        var error = process.StandardError.ReadToEndAsync();
        _ = process.StandardOutput.ReadToEndAsync();
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(2)); // a hang fails the test instead of the run
        await process.WaitForExitAsync(guard.Token);
        return (process.ExitCode, await error);
    }
}
