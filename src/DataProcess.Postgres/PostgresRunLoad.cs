using DataProcess.Core.Ports;
using Npgsql;
using NpgsqlTypes;

namespace DataProcess.Postgres;

/// <summary>
/// One open load (see <see cref="PostgresRecordSink"/>). Not thread-safe: one caller adds rows in order.
/// </summary>
/// <remarks>
/// Rejects travel in the same binary COPY as the records, as staging rows with a <c>reason</c> and no
/// <c>data</c>: they may arrive interleaved with records while the COPY is open, and this keeps memory bounded
/// however many records are rejected (no in-memory list, no cap). <see cref="CompleteAsync"/> splits them out.
/// </remarks>
internal sealed class PostgresRunLoad : IRunLoad
{
    internal const string StagingTable = "pg_temp.dataprocess_staging";

    private readonly RunDescriptor _run;
    private readonly NpgsqlConnection _connection;
    private readonly NpgsqlTransaction _transaction;
    private NpgsqlBinaryImporter? _importer;
    private State _state = State.Open;
    private long _sequence;
    private long _stagedRecords;
    private long _rejects;
    private bool _sequenceIsRecordIndex = true;

    internal PostgresRunLoad(RunDescriptor run, NpgsqlConnection connection, NpgsqlTransaction transaction, NpgsqlBinaryImporter importer)
    {
        _run = run;
        _connection = connection;
        _transaction = transaction;
        _importer = importer;
    }

    private enum State
    {
        Open,
        Completed,
        Failed,
        Disposed,
    }

    public async ValueTask AddRecordAsync(long recordIndex, string recordId, ReadOnlyMemory<byte> utf8Json, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(recordId);
        var importer = EnsureOpen();
        try
        {
            await importer.StartRowAsync(cancellationToken).ConfigureAwait(false);
            await importer.WriteAsync(_sequence, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
            await importer.WriteAsync(recordIndex, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
            await importer.WriteAsync(recordId, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
            // Npgsql maps ReadOnlyMemory<byte> to jsonb as the raw UTF-8 text behind the jsonb version byte (1):
            // the record goes from our buffer to the wire without becoming a .NET string.
            await importer.WriteAsync(utf8Json, NpgsqlDbType.Jsonb, cancellationToken).ConfigureAwait(false);
            await importer.WriteNullAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            _state = State.Failed;
            throw;
        }

        _sequenceIsRecordIndex &= _sequence == recordIndex;
        _sequence++;
        _stagedRecords++;
    }

    public async ValueTask AddRejectAsync(long recordIndex, string? recordId, string reason, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(reason);
        var importer = EnsureOpen();
        try
        {
            await importer.StartRowAsync(cancellationToken).ConfigureAwait(false);
            await importer.WriteAsync(_sequence, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
            await importer.WriteAsync(recordIndex, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
            if (recordId is null)
            {
                await importer.WriteNullAsync(cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await importer.WriteAsync(recordId, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
            }

            await importer.WriteNullAsync(cancellationToken).ConfigureAwait(false);
            await importer.WriteAsync(reason, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            _state = State.Failed;
            throw;
        }

        _sequenceIsRecordIndex &= _sequence == recordIndex;
        _sequence++;
        _rejects++;
    }

    public async Task<LoadResult> CompleteAsync(CancellationToken cancellationToken = default)
    {
        var importer = EnsureOpen();
        try
        {
            try
            {
                await importer.CompleteAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (PostgresException e) when (RefusedRow(e) is { } row)
            {
                throw Refused(e, row);
            }

            _importer = null;
            await importer.DisposeAsync().ConfigureAwait(false);

            // The last staged row of each id wins; one statement, so the upsert never meets the same key twice.
            long loaded;
            await using (var command = new NpgsqlCommand(
                $"""
                INSERT INTO dataprocess.records AS r (dataset, record_id, data, source, run_id, loaded_at)
                SELECT DISTINCT ON (s.record_id) @dataset, s.record_id, s.data, @source, @run_id, now()
                FROM {StagingTable} s
                WHERE s.reason IS NULL
                ORDER BY s.record_id, s.seq DESC
                ON CONFLICT (dataset, record_id) DO UPDATE SET
                    data = excluded.data, source = excluded.source, run_id = excluded.run_id, loaded_at = excluded.loaded_at
                """,
                _connection,
                _transaction))
            {
                command.CommandTimeout = 0; // proportional to the file; the caller's token bounds it
                command.Parameters.AddWithValue("dataset", NpgsqlDbType.Text, _run.Dataset);
                command.Parameters.AddWithValue("source", NpgsqlDbType.Text, _run.Source);
                command.Parameters.AddWithValue("run_id", NpgsqlDbType.Uuid, _run.RunId);
                loaded = await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            var result = new LoadResult(loaded, _rejects, _stagedRecords - loaded);

            await using (var command = new NpgsqlCommand(
                """
                INSERT INTO dataprocess.runs AS r
                    (run_id, dataset, source, source_etag, status, records, rejected, duplicates, started_at, finished_at, error)
                VALUES (@run_id, @dataset, @source, @etag, 'succeeded', @records, @rejected, @duplicates, @started_at, clock_timestamp(), NULL)
                ON CONFLICT (run_id) DO UPDATE SET
                    dataset = excluded.dataset, source = excluded.source, source_etag = excluded.source_etag,
                    status = 'succeeded', records = excluded.records, rejected = excluded.rejected,
                    duplicates = excluded.duplicates, started_at = excluded.started_at,
                    finished_at = excluded.finished_at, error = NULL
                WHERE r.status <> 'succeeded'
                """,
                _connection,
                _transaction))
            {
                PostgresRecordSink.AddRunParameters(command, _run);
                command.Parameters.AddWithValue("records", NpgsqlDbType.Bigint, result.Records);
                command.Parameters.AddWithValue("rejected", NpgsqlDbType.Bigint, result.Rejected);
                command.Parameters.AddWithValue("duplicates", NpgsqlDbType.Bigint, result.Duplicates);
                if (await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) != 1)
                {
                    throw new InvalidOperationException(
                        $"Run {_run.RunId} already succeeded for another source or dataset; a run id must not be reused.");
                }
            }

            if (_rejects > 0)
            {
                await using var command = new NpgsqlCommand(
                    $"""
                    INSERT INTO dataprocess.rejects (run_id, record_index, record_id, reason)
                    SELECT @run_id, s.record_index, s.record_id, s.reason
                    FROM {StagingTable} s
                    WHERE s.reason IS NOT NULL
                    """,
                    _connection,
                    _transaction);
                command.CommandTimeout = 0;
                command.Parameters.AddWithValue("run_id", NpgsqlDbType.Uuid, _run.RunId);
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await _transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            _state = State.Completed;
            await PostgresRecordSink.DisposeQuietlyAsync(_transaction, _connection).ConfigureAwait(false);
            return result;
        }
        catch
        {
            _state = State.Failed;
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_state == State.Disposed)
        {
            return;
        }

        var completed = _state == State.Completed;
        _state = State.Disposed;
        if (completed)
        {
            return; // the connection went back to the pool at commit
        }

        if (_importer is { } importer)
        {
            _importer = null;
            try
            {
                await importer.DisposeAsync().ConfigureAwait(false); // cancels the COPY
            }
            catch (Exception exception) when (exception is NpgsqlException or IOException or InvalidOperationException or ObjectDisposedException)
            {
                // The connection is broken or the COPY already failed: the rollback below (or the server) discards it.
            }
        }

        await PostgresRecordSink.DisposeQuietlyAsync(_transaction, _connection).ConfigureAwait(false);
    }

    /// <summary>
    /// The staged row a data exception (class 22, e.g. 22003 "value overflows numeric format", 22P05 "unsupported
    /// Unicode escape sequence") of the COPY is about: the error's context reads "COPY table, line N, column data".
    /// </summary>
    private static long? RefusedRow(PostgresException e)
    {
        if (!e.SqlState.StartsWith("22", StringComparison.Ordinal) || e.Where is not { } where)
        {
            return null;
        }

        var match = System.Text.RegularExpressions.Regex.Match(where, @"^COPY [^,]+, line (\d+)");
        return match.Success && long.TryParse(match.Groups[1].ValueSpan, System.Globalization.CultureInfo.InvariantCulture, out var line) ? line - 1 : null;
    }

    private Exception Refused(PostgresException e, long row)
    {
        // The message text only: PostgreSQL's detail and some messages ("invalid input syntax for type numeric: "...")
        // quote the value, which may be personal data.
        var colon = e.MessageText.IndexOf(':', StringComparison.Ordinal);
        var problem = $"PostgreSQL refused a value in it ({(colon < 0 ? e.MessageText : e.MessageText[..colon])}, SQLSTATE {e.SqlState})";
        return _sequenceIsRecordIndex
            ? new RecordRefusedException(row, problem)
            : new RecordRefusedException(null, $"{problem}, staged row {row}");
    }

    private NpgsqlBinaryImporter EnsureOpen() => _state switch
    {
        State.Open when _importer is not null => _importer,
        State.Completed => throw new InvalidOperationException("The load is already complete."),
        State.Disposed => throw new ObjectDisposedException(nameof(PostgresRunLoad)),
        _ => throw new InvalidOperationException("The load failed; dispose it and record the failure."),
    };
}
