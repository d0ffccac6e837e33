using System.Net.Sockets;
using DataProcess.Core.Ports;
using Npgsql;
using NpgsqlTypes;

namespace DataProcess.Postgres;

/// <summary>
/// The PostgreSQL sink. A load is one transaction on one connection:
/// <list type="number">
/// <item><see cref="BeginAsync"/> takes <c>pg_advisory_xact_lock(hashtextextended('dataprocess:' || dataset, 0))</c>,
/// which serialises the loads of a dataset until commit or rollback: two runs of the same identity never both load
/// (the second waits, then sees the first one's <c>succeeded</c> row and skips), and concurrent loads into one
/// dataset never deadlock on each other's rows.</item>
/// <item>Pass one streams the keys and rejects through a binary COPY into a temporary staging table (nothing is
/// held in memory but one bit per record); pass two streams the winning records through a binary COPY straight into
/// <c>dataprocess.records</c> (see <see cref="PostgresRunLoad"/>).</item>
/// <item><see cref="IRunLoad.CompleteAsync"/> writes the <c>runs</c> row and the rejects and commits: the run
/// becomes visible all at once.</item>
/// </list>
/// A source's current load in a dataset is its one <c>succeeded</c> run with <c>replaced_by</c> null; a later
/// successful run of the source marks it replaced. A run matches (and is skipped) only when that current load has
/// the same etag, profile hash and key fingerprint.
/// Run <see cref="SchemaMigrator.MigrateAsync(NpgsqlDataSource, CancellationToken)"/> once before using the sink.
/// </summary>
public sealed class PostgresRecordSink : IRecordSink, IAsyncDisposable
{
    /// <summary>The longest error text stored in <c>runs.error</c>.</summary>
    public const int MaxErrorLength = 2000;

    // Records a run as skipped, naming the run it matched; never overwrites a succeeded row.
    private const string SkippedColumns =
        "(run_id, dataset, source, source_etag, status, records, rejected, duplicates, started_at, finished_at, error, profile_hash, key_fingerprint, matched_run_id)";

    private const string SkippedValues =
        "@run_id, @dataset, @source, @etag, 'skipped', 0, 0, 0, @started_at, clock_timestamp(), NULL, @profile_hash, @key_fingerprint";

    private const string OnSkippedConflict =
        """
        ON CONFLICT (run_id) DO UPDATE SET
            dataset = excluded.dataset, source = excluded.source, source_etag = excluded.source_etag,
            status = 'skipped', records = 0, rejected = 0, duplicates = 0, finished_at = excluded.finished_at, error = NULL,
            profile_hash = excluded.profile_hash, key_fingerprint = excluded.key_fingerprint, matched_run_id = excluded.matched_run_id
        WHERE r.status <> 'succeeded'
        """;

    /// <summary>The current load of the run's source in its dataset, when it has the run's identity.</summary>
    private const string CurrentLoadWithIdentity =
        """
        dataset = @dataset AND source = @source AND status = 'succeeded' AND replaced_by IS NULL
        AND source_etag = @etag AND profile_hash = @profile_hash AND key_fingerprint = @key_fingerprint
        """;

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
    public Task<Guid?> SkipIfLoadedAsync(RunDescriptor run, CancellationToken cancellationToken = default)
    {
        Validate(run, identity: true);

        // One statement: the match and the skipped row together. The run itself having succeeded (a retry whose
        // response was lost) is a match that records nothing.
        return WithFreshConnectionOnceAsync(async () =>
        {
            await using var command = _dataSource.CreateCommand(
                $"""
                WITH matched AS (
                    SELECT run_id FROM dataprocess.runs WHERE {CurrentLoadWithIdentity}
                ), skipped AS (
                    INSERT INTO dataprocess.runs AS r {SkippedColumns}
                    SELECT {SkippedValues}, m.run_id FROM matched m WHERE m.run_id <> @run_id
                    {OnSkippedConflict}
                )
                SELECT run_id FROM matched
                """);
            AddRunParameters(command, run);
            return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as Guid?;
        });
    }

    /// <inheritdoc />
    public Task<LoadStart> BeginAsync(RunDescriptor run, bool reprocess, CancellationToken cancellationToken = default)
    {
        Validate(run, identity: true);

        // Nothing was loaded yet when the first round trip fails (the transaction, if any, died with the connection).
        return WithFreshConnectionOnceAsync(() => BeginOnceAsync(run, reprocess, cancellationToken));
    }

    private async Task<LoadStart> BeginOnceAsync(RunDescriptor run, bool reprocess, CancellationToken cancellationToken)
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

            Guid? matched;
            await using (var command = new NpgsqlCommand(
                $"""
                SELECT run_id FROM dataprocess.runs
                WHERE (run_id = @run_id AND status = 'succeeded') OR (NOT @reprocess AND {CurrentLoadWithIdentity})
                ORDER BY run_id = @run_id DESC
                LIMIT 1
                """,
                connection,
                transaction))
            {
                AddRunParameters(command, run);
                command.Parameters.AddWithValue("reprocess", NpgsqlDbType.Boolean, reprocess);
                matched = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as Guid?;
            }

            if (matched is { } matchedRun)
            {
                // A retry of the very run that succeeded (e.g. its response was lost) changes nothing;
                // another run of the same identity is recorded as skipped.
                if (matchedRun != run.RunId)
                {
                    await using var command = new NpgsqlCommand(
                        $"INSERT INTO dataprocess.runs AS r {SkippedColumns} VALUES ({SkippedValues}, @matched) {OnSkippedConflict}", connection, transaction);
                    AddRunParameters(command, run);
                    command.Parameters.AddWithValue("matched", NpgsqlDbType.Uuid, matchedRun);
                    await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                await transaction.DisposeAsync().ConfigureAwait(false);
                await connection.DisposeAsync().ConfigureAwait(false);
                return new LoadStart.Skipped(matchedRun);
            }

            await using (var command = new NpgsqlCommand(
                $"""
                CREATE TEMP TABLE {PostgresRunLoad.StagingTable} (
                    seq       bigint NOT NULL,
                    record_id text,
                    reason    text
                ) ON COMMIT DROP
                """,
                connection,
                transaction))
            {
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            var importer = await connection.BeginBinaryImportAsync(
                    $"COPY {PostgresRunLoad.StagingTable} (seq, record_id, reason) FROM STDIN (FORMAT BINARY)",
                    cancellationToken)
                .ConfigureAwait(false);
            return new LoadStart.Started(new PostgresRunLoad(run, connection, transaction, importer));
        }
        catch
        {
            await DisposeQuietlyAsync(transaction, connection).ConfigureAwait(false);
            throw;
        }
    }

    /// <inheritdoc />
    public Task RecordFailureAsync(RunDescriptor run, string error, CancellationToken cancellationToken = default)
    {
        Validate(run, identity: false);
        ArgumentNullException.ThrowIfNull(error);

        // The failure row is an idempotent upsert: writing it again on a fresh connection is safe. A row the load
        // itself wrote as failed (a reject ratio above the profile's limit) keeps its counts.
        return WithFreshConnectionOnceAsync(async () =>
        {
            await using var command = _dataSource.CreateCommand(
                """
                INSERT INTO dataprocess.runs AS r
                    (run_id, dataset, source, source_etag, status, records, rejected, duplicates, started_at, finished_at, error,
                     profile_hash, key_fingerprint)
                VALUES (@run_id, @dataset, @source, @etag, 'failed', NULL, NULL, NULL, @started_at, clock_timestamp(), @error,
                        @profile_hash, @key_fingerprint)
                ON CONFLICT (run_id) DO UPDATE SET
                    dataset = excluded.dataset, source = excluded.source, source_etag = excluded.source_etag,
                    status = 'failed', finished_at = excluded.finished_at, error = excluded.error,
                    profile_hash = coalesce(excluded.profile_hash, r.profile_hash),
                    key_fingerprint = coalesce(excluded.key_fingerprint, r.key_fingerprint)
                WHERE r.status <> 'succeeded'
                """);
            AddRunParameters(command, run);
            command.Parameters.AddWithValue("error", TruncateError(error));
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return true;
        });
    }

    /// <summary>
    /// Runs <paramref name="work"/>, and once more after clearing the pool when its first round trip met a dead
    /// pooled connection (see <see cref="IsDeadPooledConnection"/>). Only for work that is safe to repeat.
    /// </summary>
    private async Task<T> WithFreshConnectionOnceAsync<T>(Func<Task<T>> work)
    {
        try
        {
            return await work().ConfigureAwait(false);
        }
        catch (NpgsqlException e) when (IsDeadPooledConnection(e))
        {
            _dataSource.Clear();
            return await work().ConfigureAwait(false);
        }
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
        command.Parameters.AddWithValue("profile_hash", NpgsqlDbType.Text, (object?)run.ProfileHash ?? DBNull.Value);
        command.Parameters.AddWithValue("key_fingerprint", NpgsqlDbType.Text, (object?)run.KeyFingerprint ?? DBNull.Value);
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

    internal static string TruncateError(string error)
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

    /// <param name="identity">Whether the run's whole identity is needed (a replay check or a load), not only its source.</param>
    private static void Validate(RunDescriptor run, bool identity)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentException.ThrowIfNullOrEmpty(run.Dataset, nameof(run));
        ArgumentException.ThrowIfNullOrEmpty(run.Source, nameof(run));
        ArgumentNullException.ThrowIfNull(run.SourceETag, nameof(run));
        if (identity && (string.IsNullOrEmpty(run.ProfileHash) || string.IsNullOrEmpty(run.KeyFingerprint)))
        {
            throw new ArgumentException("a load and a replay check need the run's profile hash and key fingerprint", nameof(run));
        }
    }
}
