using DataProcess.Testing;
using DataProcess.Core.Ports;
using DataProcess.Local;
using DataProcess.Postgres;

namespace DataProcess.Reliability.Tests;

/// <summary>Matrix section 5: the database restarts between two runs; the next run works.</summary>
public sealed class DatabaseRestartTests(DedicatedCluster server) : IClassFixture<DedicatedCluster>, IDisposable
{
    private readonly CliHarness _cli = new();

    [Fact]
    public async Task A_run_after_the_database_restarted_succeeds()
    {
        var database = server.Cluster.ConnectionString;
        var profile = _cli.Profile("""{"dataset":"restart_cli","id":"id","anonymize":{"email":"hash"}}""");
        var first = await _cli.RunAsync(database, "run", _cli.File("first.json", """[{"id":1,"email":"a@example.org"}]"""), "--profile", profile);
        first.ExitCode.Should().Be(0, first.Error);

        await server.RestartAsync();
        var second = await _cli.RunAsync(server.Cluster.ConnectionString, "run", _cli.File("second.json", """[{"id":2,"email":"b@example.org"}]"""), "--profile", profile);

        second.ExitCode.Should().Be(0, second.Error);
        (await CountAsync("SELECT count(*) FROM dataprocess.records WHERE dataset = 'restart_cli'")).Should().Be(2);
    }

    [Fact]
    public async Task A_long_lived_sink_recovers_its_pool_after_the_database_restarted()
    {
        // A warm Lambda container keeps one sink (and its connection pool) across invocations: after a restart its
        // idle pooled connections are dead, and the next load must not fail on one of them.
        await SchemaMigrator.MigrateAsync(server.Cluster.ConnectionString);
        await using var sink = PostgresRecordSink.Create(server.Cluster.ConnectionString);
        await LoadOneAsync(sink, "before");
        await sink.RecordFailureAsync(Run("failed-before"), "an earlier failure");

        await server.RestartAsync();

        await LoadOneAsync(sink, "after");
        await sink.RecordFailureAsync(Run("failed-after"), "a later failure");
        (await CountAsync("SELECT count(*) FROM dataprocess.records WHERE dataset = 'restart_sink'")).Should().Be(2);
        (await CountAsync("SELECT count(*) FROM dataprocess.runs WHERE dataset = 'restart_sink' AND status = 'failed'")).Should().Be(2);
    }

    public void Dispose() => _cli.Dispose();

    /// <summary>Queries without the process-wide pool, whose idle connections the restart killed too.</summary>
    private Task<long> CountAsync(string sql) =>
        Testing.PostgresFixture.ScalarAsync<long>(new Npgsql.NpgsqlConnectionStringBuilder(server.Cluster.ConnectionString) { Pooling = false }.ConnectionString, sql);

    private static RunDescriptor Run(string source) => SinkLoads.Run("restart_sink", source);

    private static async Task LoadOneAsync(PostgresRecordSink sink, string id) =>
        (await SinkLoads.LoadAsync(sink, Run(id), (id, $$"""{"id":"{{id}}"}"""))).Should().NotBeNull();
}
