using DataProcess.Local;
using Npgsql;
using Xunit;

namespace DataProcess.Testing;

/// <summary>
/// A PostgreSQL cluster of one test class's own, in a temporary directory, that it may stop, start and reconfigure:
/// the shared test cluster is never restarted or reconfigured under the other test classes.
/// </summary>
public sealed class DedicatedCluster : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "dp-pg-" + Guid.NewGuid().ToString("N")[..8]);

    public LocalPostgresCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync() => Cluster = await LocalPostgresCluster.StartAsync(_directory, durable: false);

    /// <summary><c>pg_ctl stop -m fast</c> then start: every open session is disconnected, as in a failover or a patch restart.</summary>
    public async Task RestartAsync()
    {
        await StopAsync();
        await StartAsync();
    }

    /// <summary>Stops the server: connecting fails until <see cref="StartAsync"/> (a paused or unreachable database).</summary>
    public Task StopAsync() => Cluster.StopAsync();

    public async Task StartAsync() => Cluster = await LocalPostgresCluster.StartAsync(_directory, durable: false);

    /// <summary>
    /// From now on every role but the superuser <c>postgres</c> logs in with its password (SCRAM), as on Aurora; the
    /// superuser keeps trust on the socket, so the tests can still set up and inspect.
    /// </summary>
    public async Task RequirePasswordsAsync()
    {
        await File.WriteAllTextAsync(Path.Combine(Cluster.DataDirectory, "pg_hba.conf"), "local all postgres trust\nlocal all all scram-sha-256\n");
        await ExecuteAsync(Cluster.ConnectionString, "SELECT pg_reload_conf()");
    }

    /// <summary>Creates an empty database; returns its superuser connection string.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = "test_" + Guid.NewGuid().ToString("N");
        await ExecuteAsync(Cluster.ConnectionString, $"CREATE DATABASE {name}");
        return new NpgsqlConnectionStringBuilder(Cluster.ConnectionString) { Database = name }.ConnectionString;
    }

    public static async Task ExecuteAsync(string connectionString, string sql)
    {
        // Unpooled: a pooled connection would be dead after a restart.
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    public Task DisposeAsync() => LocalPostgresCluster.DestroyAsync(_directory);
}
