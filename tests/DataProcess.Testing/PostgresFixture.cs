using System.Diagnostics;
using System.Globalization;
using DataProcess.Local;
using DataProcess.Postgres;
using Npgsql;
using Xunit;

namespace DataProcess.Testing;

/// <summary>
/// A real PostgreSQL server for tests: ONE throwaway, non-durable cluster per test process, under
/// <c>&lt;repo&gt;/.local/test-pg-&lt;random&gt;</c>, or the server of the connection string in
/// <c>DATAPROCESS_TEST_DATABASE</c> when that is set. Each test asks <see cref="CreateDatabaseAsync"/> for a fresh
/// empty database, so tests are isolated and may run in parallel.
/// </summary>
/// <remarks>
/// Use it as an <c>IClassFixture</c> (test classes then run in parallel) or an <c>ICollectionFixture</c>: every
/// instance shares the process-wide server, started on first use. A throwaway cluster is stopped and its directory
/// deleted by a watchdog once the test process is gone; a cluster left behind anyway (e.g. a reboot) is removed by
/// the next run. Tests should drop their database (<see cref="DropDatabaseAsync"/>) when done: on an external
/// server that is what keeps it clean (dropping at process exit is best effort, as the test host is killed soon
/// after the run).
/// </remarks>
public sealed class PostgresFixture : IAsyncLifetime
{
    /// <summary>A connection string to an external server to use instead of a throwaway cluster.</summary>
    public const string DatabaseVariable = "DATAPROCESS_TEST_DATABASE";

    private string? _adminConnectionString;

    /// <summary>A superuser connection string for the server's maintenance database.</summary>
    public string AdminConnectionString => _adminConnectionString ?? throw new InvalidOperationException("The fixture is not initialised.");

    /// <inheritdoc />
    public async Task InitializeAsync() => _adminConnectionString = (await SharedServer.GetAsync().ConfigureAwait(false)).AdminConnectionString;

    /// <summary>The shared server outlives every fixture instance; it goes at process exit.</summary>
    public Task DisposeAsync() => Task.CompletedTask;

    /// <summary>Creates a fresh empty database and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(CancellationToken cancellationToken = default)
    {
        var server = await SharedServer.GetAsync().ConfigureAwait(false);
        var name = "test_" + Guid.NewGuid().ToString("N");
        await ExecuteAsync($"CREATE DATABASE {name}", cancellationToken).ConfigureAwait(false);
        server.Created(name);
        return new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name }.ConnectionString;
    }

    /// <summary>Runs <paramref name="sql"/> on <paramref name="connectionString"/> and returns the first column of the first row.</summary>
    public static async Task<T> ScalarAsync<T>(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync().ConfigureAwait(false);
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync().ConfigureAwait(false))!;
    }

    /// <summary>Terminates every other backend connected to <paramref name="database"/>; returns how many.</summary>
    public async Task<int> TerminateBackendsAsync(string database, CancellationToken cancellationToken = default)
    {
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = @database AND pid <> pg_backend_pid()",
            connection);
        command.Parameters.AddWithValue("database", database);
        return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Waits until a backend of <paramref name="database"/> is blocked on a lock while running a statement like
    /// <paramref name="queryLike"/> (a LIKE pattern), and returns its pid: a test that holds the lock has then stopped
    /// the code under test at exactly that statement. Fails when <paramref name="running"/> ends first.
    /// </summary>
    public async Task<int> WaitForLockWaitAsync(string database, string queryLike, Task running, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(running);
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        while (true)
        {
            await using (var command = new NpgsqlCommand(
                """
                SELECT pid FROM pg_stat_activity
                WHERE datname = @database AND wait_event_type = 'Lock' AND query LIKE @query AND pid <> pg_backend_pid()
                LIMIT 1
                """,
                connection))
            {
                command.Parameters.AddWithValue("database", database);
                command.Parameters.AddWithValue("query", queryLike);
                if (await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is int pid)
                {
                    return pid;
                }
            }

            if (running.IsCompleted)
            {
                await running.ConfigureAwait(false);
                throw new InvalidOperationException($"the code under test ended without waiting on a lock in a statement like '{queryLike}'");
            }

            await Task.Delay(10, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Drops <paramref name="database"/>, disconnecting its sessions.</summary>
    public Task DropDatabaseAsync(string database, CancellationToken cancellationToken = default) =>
        ExecuteAsync($"DROP DATABASE IF EXISTS \"{database.Replace("\"", "\"\"", StringComparison.Ordinal)}\" WITH (FORCE)", cancellationToken);

    private async Task ExecuteAsync(string sql, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private sealed class SharedServer
    {
        private const string OwnerFile = "owner.pid";
        private static readonly SemaphoreSlim Gate = new(1, 1);
        private static SharedServer? s_instance;

        private readonly List<string> _databases = [];
        private readonly string? _clusterDirectory;

        private SharedServer(string adminConnectionString, string? clusterDirectory)
        {
            AdminConnectionString = adminConnectionString;
            _clusterDirectory = clusterDirectory;
            AppDomain.CurrentDomain.ProcessExit += (_, _) => Shutdown();
        }

        public string AdminConnectionString { get; }

        public static async Task<SharedServer> GetAsync()
        {
            if (Volatile.Read(ref s_instance) is { } existing)
            {
                return existing;
            }

            await Gate.WaitAsync().ConfigureAwait(false);
            try
            {
                if (s_instance is null)
                {
                    var external = Environment.GetEnvironmentVariable(DatabaseVariable);
                    s_instance = string.IsNullOrWhiteSpace(external)
                        ? await StartClusterAsync().ConfigureAwait(false)
                        : new SharedServer(external, clusterDirectory: null);
                }

                return s_instance;
            }
            finally
            {
                Gate.Release();
            }
        }

        public void Created(string database)
        {
            lock (_databases)
            {
                _databases.Add(database);
            }
        }

        private static async Task<SharedServer> StartClusterAsync()
        {
            var local = Path.Combine(FindRepositoryRoot(), ".local");
            await RemoveAbandonedClustersAsync(local).ConfigureAwait(false);

            var directory = Path.Combine(local, "test-pg-" + Guid.NewGuid().ToString("N")[..8]);
            Directory.CreateDirectory(directory);
            await File.WriteAllTextAsync(Path.Combine(directory, OwnerFile), Environment.ProcessId.ToString(CultureInfo.InvariantCulture)).ConfigureAwait(false);
            try
            {
                var cluster = await LocalPostgresCluster.StartAsync(directory, durable: false).ConfigureAwait(false);
                StartWatchdog(cluster);
                return new SharedServer(cluster.ConnectionString, directory);
            }
            catch
            {
                await LocalPostgresCluster.DestroyAsync(directory).ConfigureAwait(false);
                throw;
            }
        }

        /// <summary>
        /// Removes the cluster once this process is gone. Not a ProcessExit handler: the test platform kills the
        /// test host moments after the run, too soon to stop a server and delete its files, and a killed process
        /// runs no handler at all. A detached shell (its own session, so the kill of the host's process tree
        /// misses it) polls this process and then stops the server and deletes the directory.
        /// </summary>
        private static void StartWatchdog(LocalPostgresCluster cluster)
        {
            const string script =
                """
                exec </dev/null >/dev/null 2>&1
                while kill -0 "$1" 2>/dev/null; do sleep 0.2; done
                if [ "$(id -u)" = 0 ]; then runuser -u postgres -- pg_ctl stop -D "$3" -m immediate -w; else pg_ctl stop -D "$3" -m immediate -w; fi
                rm -rf "$2" "$4"
                """;
            var startInfo = new ProcessStartInfo("setsid")
            {
                UseShellExecute = false,
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            foreach (var argument in (string[])["-f", "sh", "-c", script, "dataprocess-test-pg-watchdog",
                         Environment.ProcessId.ToString(CultureInfo.InvariantCulture), cluster.Directory, cluster.DataDirectory, cluster.SocketDirectory])
            {
                startInfo.ArgumentList.Add(argument);
            }

            using var process = Process.Start(startInfo) ?? throw new InvalidOperationException("Could not start the test cluster's watchdog (setsid).");
            process.WaitForExit();
        }

        /// <summary>Clusters whose test process is gone (killed before its exit handler ran).</summary>
        private static async Task RemoveAbandonedClustersAsync(string local)
        {
            if (!Directory.Exists(local))
            {
                return;
            }

            foreach (var directory in Directory.EnumerateDirectories(local, "test-pg-*"))
            {
                var ownerFile = Path.Combine(directory, OwnerFile);
                if (File.Exists(ownerFile)
                    && int.TryParse(await File.ReadAllTextAsync(ownerFile).ConfigureAwait(false), CultureInfo.InvariantCulture, out var pid)
                    && !Directory.Exists($"/proc/{pid}"))
                {
                    try
                    {
                        await LocalPostgresCluster.DestroyAsync(directory).ConfigureAwait(false);
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
                    {
                        // Best effort: the test process that just ended has a watchdog stopping and deleting this very
                        // cluster right now (pg_ctl stop, rm -rf). Racing it must not fail this test process's start.
                    }
                }
            }
        }

        private static string FindRepositoryRoot()
        {
            for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, "DataProcess.sln")))
                {
                    return directory.FullName;
                }
            }

            throw new InvalidOperationException(
                $"No DataProcess.sln above {AppContext.BaseDirectory}: cannot place the test cluster under <repo>/.local. Set {DatabaseVariable} instead.");
        }

        private void Shutdown()
        {
            // ProcessExit handlers are synchronous; this runs once, at the end of the test process.
            NpgsqlConnection.ClearAllPools();
            if (_clusterDirectory is not null)
            {
                return; // the watchdog removes the cluster (see StartWatchdog)
            }

            string[] databases;
            lock (_databases)
            {
                databases = [.. _databases];
            }

            try
            {
                using var connection = new NpgsqlConnection(AdminConnectionString);
                connection.Open();
                foreach (var database in databases)
                {
                    using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS {database} WITH (FORCE)", connection);
                    command.ExecuteNonQuery();
                }
            }
            catch (NpgsqlException)
            {
                // Best effort: the external server may already be gone.
            }
        }
    }
}
