using Npgsql;

namespace DataProcess.Local.Tests;

/// <summary>These start their own clusters (not the shared test server) and remove them.</summary>
public sealed class LocalPostgresClusterTests
{
    [Fact]
    public async Task Starting_one_directory_from_two_callers_at_once_initialises_one_cluster_that_keeps_its_data_across_restarts()
    {
        var directory = Path.Combine(Path.GetTempPath(), "dataprocess-cluster-test-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var clusters = await Task.WhenAll(
                Task.Run(() => LocalPostgresCluster.StartAsync(directory, durable: false)),
                Task.Run(() => LocalPostgresCluster.StartAsync(directory, durable: false)));

            clusters[0].ConnectionString.Should().Be(clusters[1].ConnectionString);
            await ExecuteAsync(clusters[0].ConnectionString, "CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)");

            await clusters[1].StopAsync();
            var restarted = await LocalPostgresCluster.StartAsync(directory, durable: false);

            (await ScalarAsync(restarted.ConnectionString, "SELECT v FROM kept")).Should().Be(42);
            (await ScalarAsync(restarted.ConnectionString, "SHOW server_encoding")).Should().Be("UTF8");
            (await ScalarAsync(restarted.ConnectionString, "SHOW listen_addresses")).Should().Be(string.Empty);
        }
        finally
        {
            await LocalPostgresCluster.DestroyAsync(directory);
        }

        Directory.Exists(directory).Should().BeFalse();
    }

    [Fact]
    public async Task A_directory_too_long_for_a_unix_socket_gets_its_socket_in_a_short_directory_under_tmp()
    {
        var directory = Path.Combine(Path.GetTempPath(), "dataprocess-cluster-test-" + Guid.NewGuid().ToString("N")[..8], new string('d', 100));
        try
        {
            var cluster = await LocalPostgresCluster.StartAsync(directory, durable: false);

            cluster.SocketDirectory.Should().StartWith("/tmp/dataprocess-pg-");
            (await ScalarAsync(cluster.ConnectionString, "SELECT 1")).Should().Be(1);
        }
        finally
        {
            await LocalPostgresCluster.DestroyAsync(directory);
            Directory.Delete(Path.GetDirectoryName(directory)!, recursive: true);
        }
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<object?> ScalarAsync(string connectionString, string sql)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var command = dataSource.CreateCommand(sql);
        return await command.ExecuteScalarAsync();
    }
}
