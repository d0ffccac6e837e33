using System.Net.Sockets;
using DataProcess.Core.Ports;
using Npgsql;
using NpgsqlTypes;

namespace DataProcess.Postgres;

/// <summary>
/// The PostgreSQL sink. A load is one transaction on one connection:
/// <list type="number">
/// <item><see cref="BeginAsync"/> takes <c>pg_advisory_xact_lock(hashtextextended('dataprocess:' || dataset, 0))</c>,
/// which serialises the loads of a dataset until commit or rollback: two runs of the same source version never
/// both load (the second waits, then sees the first one's <c>succeeded</c> row and skips), and concurrent upserts
/// into one dataset never deadlock on each other's rows.</item>
/// <item>Records and rejects stream through one binary COPY into a temporary staging table (nothing is held in
/// memory), in arrival order.</item>
/// <item><see cref="IRunLoad.CompleteAsync"/> upserts the last staged row of every id into <c>dataprocess.records</c>,
/// writes the <c>runs</c> row and the rejects, and commits: the run becomes visible all at once.</item>
/// </list>
/// Run <see cref="SchemaMigrator.MigrateAsync(NpgsqlDataSource, CancellationToken)"/> once before using the sink.
/// </summary>
public sealed class PostgresRecordSink : IRecordSink, IAsyncDisposable
{
    /// <summary>The longest error text stored in <c>runs.error</c>.</summary>
    public const int MaxErrorLength = 2000;

    private readonly NpgsqlDataSource _dataSource;
    private readonly bool _ownsDataSource;

    /// <summary>A sink over <paramref name="dataSource"/>, which the caller keeps owning.</summary>
    public PostgresRecordSink(NpgsqlDataSource dataSource)
        : this(dataSource, ownsDataSource: false)
    {
    }

    private PostgresRecordSink(NpgsqlDataSource dataSource, bool ownsDataSource)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        _dataSource = dataSource;
        _ownsDataSource = ownsDataSource;
    }

    /// <summary>A sink with its own data source for <paramref name="connectionString"/>; disposing the sink disposes it.</summary>
    public static PostgresRecordSink Create(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        return new PostgresRecordSink(NpgsqlDataSource.Create(connectionString), ownsDataSource: true);
    }

    /// <inheritdoc />
    public async Task<IRunLoad?> BeginAsync(RunDescriptor run, CancellationToken cancellationToken = default)
    {
        Validate(run);
        try
        {
            return await BeginOnceAsync(run, cancellationToken).ConfigureAwait(false);
        }
        catch (NpgsqlException e) when (IsDeadPooledConnection(e))
        {
            // Nothing was loaded yet (the transaction, if any, died with the connection): start over once on a fresh one.
            _dataSource.Clear();
            return await BeginOnceAsync(run, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<IRunLoad?> BeginOnceAsync(RunDescriptor run, CancellationToken cancellationToken)
    {
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        NpgsqlTransaction? transaction = null;
        try
        {
            transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);

            await using (var command = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtextextended('dataprocess:' || @dataset, 0))", connection, transaction))
            {
                // Waiting for another load of the dataset is normal; the caller's token (or its own timeout) bounds it.
                command.CommandTimeout = 0;
                command.Parameters.AddWithValue("dataset", run.Dataset);
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            Guid? loadedBy;
            await using (var command = new NpgsqlCommand(
                """
                SELECT run_id FROM dataprocess.runs
                WHERE dataset = @dataset AND source = @source AND source_etag = @etag AND status = 'succeeded'
                """,
                connection,
                transaction))
            {
                command.Parameters.AddWithValue("dataset", run.Dataset);
                command.Parameters.AddWithValue("source", run.Source);
                command.Parameters.AddWithValue("etag", run.SourceETag);
                loadedBy = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as Guid?;
            }

            if (loadedBy is { } succeededRun)
            {
                // A retry of the very run that succeeded (e.g. its response was lost) changes nothing;
                // another run of the same source version is recorded as skipped.
                if (succeededRun != run.RunId)
                {
                    await using var command = new NpgsqlCommand(
                        """
                        INSERT INTO dataprocess.runs AS r
                            (run_id, dataset, source, source_etag, status, records, rejected, duplicates, started_at, finished_at, error)
                        VALUES (@run_id, @dataset, @source, @etag, 'skipped', 0, 0, 0, @started_at, clock_timestamp(), NULL)
                        ON CONFLICT (run_id) DO UPDATE SET
                            dataset = excluded.dataset, source = excluded.source, source_etag = excluded.source_etag,
                            status = 'skipped', records = 0, rejected = 0, duplicates = 0,
                            finished_at = excluded.finished_at, error = NULL
                        WHERE r.status <> 'succeeded'
                        """,
                        connection,
                        transaction);
                    AddRunParameters(command, run);
                    await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                await transaction.DisposeAsync().ConfigureAwait(false);
                await connection.DisposeAsync().ConfigureAwait(false);
                return null;
            }

            await using (var command = new NpgsqlCommand(
                $"""
                CREATE TEMP TABLE {PostgresRunLoad.StagingTable} (
                    seq          bigint NOT NULL,
                    record_index bigint NOT NULL,
                    record_id    text,
                    data         jsonb,
                    reason       text
                ) ON COMMIT DROP
                """,
                connection,
                transaction))
            {
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            var importer = await connection.BeginBinaryImportAsync(
                    $"COPY {PostgresRunLoad.StagingTable} (seq, record_index, record_id, data, reason) FROM STDIN (FORMAT BINARY)",
                    cancellationToken)
                .ConfigureAwait(false);
            return new PostgresRunLoad(run, connection, transaction, importer);
        }
        catch
        {
            await DisposeQuietlyAsync(transaction, connection).ConfigureAwait(false);
            throw;
        }
    }

    /// <inheritdoc />
    public async Task RecordFailureAsync(RunDescriptor run, string error, CancellationToken cancellationToken = default)
    {
        Validate(run);
        ArgumentNullException.ThrowIfNull(error);
        try
        {
            await RecordFailureOnceAsync(run, error, cancellationToken).ConfigureAwait(false);
        }
        catch (NpgsqlException e) when (IsDeadPooledConnection(e))
        {
            // The failure row is an idempotent upsert: writing it again on a fresh connection is safe.
            _dataSource.Clear();
            await RecordFailureOnceAsync(run, error, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task RecordFailureOnceAsync(RunDescriptor run, string error, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(
            """
            INSERT INTO dataprocess.runs AS r
                (run_id, dataset, source, source_etag, status, records, rejected, duplicates, started_at, finished_at, error)
            VALUES (@run_id, @dataset, @source, @etag, 'failed', NULL, NULL, NULL, @started_at, clock_timestamp(), @error)
            ON CONFLICT (run_id) DO UPDATE SET
                dataset = excluded.dataset, source = excluded.source, source_etag = excluded.source_etag,
                status = 'failed', records = NULL, rejected = NULL, duplicates = NULL,
                finished_at = excluded.finished_at, error = excluded.error
            WHERE r.status <> 'succeeded'
            """,
            connection);
        AddRunParameters(command, run);
        command.Parameters.AddWithValue("error", TruncateError(error));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Whether retrying the whole load may succeed: lost or refused connections, the server shutting down or
    /// terminating the backend (57P01/57P02/57P03), too many connections (53300), serialisation failures (40001),
    /// deadlocks (40P01), and whatever Npgsql itself classifies as transient.
    /// </summary>
    public static bool IsTransient(Exception exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            switch (current)
            {
                case PostgresException postgres:
                    return postgres.IsTransient
                        || postgres.SqlState is PostgresErrorCodes.AdminShutdown
                            or PostgresErrorCodes.CrashShutdown
                            or PostgresErrorCodes.CannotConnectNow
                            or PostgresErrorCodes.TooManyConnections
                            or PostgresErrorCodes.SerializationFailure
                            or PostgresErrorCodes.DeadlockDetected
                        || postgres.SqlState.StartsWith("08", StringComparison.Ordinal);
                case NpgsqlException { IsTransient: true }:
                    return true;
                case SocketException socket when socket.SocketErrorCode is SocketError.ConnectionRefused
                    or SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.TimedOut
                    or SocketError.TryAgain or SocketError.HostUnreachable or SocketError.NetworkUnreachable:
                    return true;
                case TimeoutException:
                    return true;
                default:
                    break;
            }
        }

        return false;
    }

    /// <summary>
    /// A pooled connection that the server closed while it sat idle: after a restart or failover every idle
    /// connection in the pool is dead, and Npgsql only finds out on first use (a broken pipe, or the server's
    /// 57P01 "terminating connection due to administrator command" read late). Clearing the pool and trying once
    /// more on a new connection is what makes a long-lived process (a warm Lambda) survive a database restart.
    /// </summary>
    private static bool IsDeadPooledConnection(NpgsqlException exception) => exception switch
    {
        PostgresException postgres => postgres.SqlState is PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown,
        _ => exception.InnerException is IOException or SocketException or EndOfStreamException,
    };

    /// <summary>Disposes the data source when the sink created it (<see cref="Create"/>).</summary>
    public async ValueTask DisposeAsync()
    {
        if (_ownsDataSource)
        {
            await _dataSource.DisposeAsync().ConfigureAwait(false);
        }
    }

    internal static void AddRunParameters(NpgsqlCommand command, RunDescriptor run)
    {
        command.Parameters.AddWithValue("run_id", NpgsqlDbType.Uuid, run.RunId);
        command.Parameters.AddWithValue("dataset", NpgsqlDbType.Text, run.Dataset);
        command.Parameters.AddWithValue("source", NpgsqlDbType.Text, run.Source);
        command.Parameters.AddWithValue("etag", NpgsqlDbType.Text, run.SourceETag);
        command.Parameters.AddWithValue("started_at", NpgsqlDbType.TimestampTz, run.StartedAt.ToUniversalTime());
    }

    internal static async ValueTask DisposeQuietlyAsync(NpgsqlTransaction? transaction, NpgsqlConnection connection)
    {
        // Cleanup after a failure: the connection may already be broken, and the original exception matters more.
        try
        {
            if (transaction is not null)
            {
                await transaction.DisposeAsync().ConfigureAwait(false); // rolls back when not committed
            }
        }
        catch (Exception exception) when (exception is NpgsqlException or IOException or InvalidOperationException or ObjectDisposedException)
        {
        }

        try
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is NpgsqlException or IOException or InvalidOperationException or ObjectDisposedException)
        {
        }
    }

    private static string TruncateError(string error)
    {
        // text cannot hold NUL; keep a surrogate pair whole at the cut.
        error = error.Replace('\0', '\uFFFD');
        if (error.Length <= MaxErrorLength)
        {
            return error;
        }

        var cut = MaxErrorLength - 1;
        if (char.IsHighSurrogate(error[cut - 1]))
        {
            cut--;
        }

        return string.Concat(error.AsSpan(0, cut), "…");
    }

    private static void Validate(RunDescriptor run)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentException.ThrowIfNullOrEmpty(run.Dataset, nameof(run));
        ArgumentException.ThrowIfNullOrEmpty(run.Source, nameof(run));
        ArgumentNullException.ThrowIfNull(run.SourceETag, nameof(run));
    }
}
