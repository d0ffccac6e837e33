using System.Collections;
using System.Diagnostics;
using DataProcess.Core.Ports;
using Npgsql;
using NpgsqlTypes;

namespace DataProcess.Postgres;

/// <summary>
/// One open load (see <see cref="PostgresRecordSink"/> and the protocol of <see cref="IRunLoad"/>). Not thread-safe:
/// one caller adds rows in order.
/// </summary>
/// <remarks>
/// Pass one stages narrow rows, <c>(seq, record_id, reason)</c> with <c>seq</c> the record index, through a binary
/// COPY into a temporary table: a key (no reason) or a reject (its reason). Memory stays bounded however many records
/// are rejected. <see cref="EndKeysAsync"/> marks the keys that do not load (an earlier duplicate of an id, or an id a
/// newer source version holds) as one bit per record, deletes the rows the run replaces, and opens a binary COPY
/// straight into <c>dataprocess.records</c>; pass two streams the winning records into it. Each record is written
/// once, by COPY, with no sort and no ON CONFLICT: all-or-nothing, at close to the speed of a plain COPY.
/// </remarks>
internal sealed class PostgresRunLoad : IRunLoad
{
    internal const string StagingTable = "pg_temp.dataprocess_staging";

    private readonly RunDescriptor _run;
    private readonly NpgsqlConnection _connection;
    private readonly NpgsqlTransaction _transaction;
    private NpgsqlBinaryImporter? _importer;
    private State _state = State.Keys;

    // Pass one: the next record index, and the indexes of the rejects (in order; they have no row in pass two).
    private long _records;
    private long _rejects;
    private readonly List<long> _rejectIndexes = [];

    // Between the passes: which keys do not load, and why.
    private BitArray? _skip;
    private long _duplicates;
    private long _superseded;
    private DateTime _loadedAt;
    private double _replaceSeconds;

    // Pass two: the next record index to account for, and the next reject to step over.
    private long _cursor;
    private int _nextReject;
    private long _loaded;

    internal PostgresRunLoad(RunDescriptor run, NpgsqlConnection connection, NpgsqlTransaction transaction, NpgsqlBinaryImporter importer)
    {
        _run = run;
        _connection = connection;
        _transaction = transaction;
        _importer = importer;
    }

    private enum State
    {
        Keys,
        Records,
        Completed,
        Failed,
        Disposed,
    }

    public ValueTask AddKeyAsync(long recordIndex, string recordId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(recordId);
        return StageRowAsync(recordIndex, recordId, reason: null, cancellationToken);
    }

    public ValueTask AddRejectAsync(long recordIndex, string? recordId, string reason, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(reason);
        return StageRowAsync(recordIndex, recordId, reason, cancellationToken);
    }

    /// <summary>One row of the staging table: a key (no reason) or a reject (a reason).</summary>
    private async ValueTask StageRowAsync(long recordIndex, string? recordId, string? reason, CancellationToken cancellationToken)
    {
        var importer = Expect(State.Keys);
        if (recordIndex != _records)
        {
            Fail();
            throw new InvalidOperationException($"pass one takes every record index once, in order: expected {_records}, got {recordIndex}");
        }

        try
        {
            await importer.StartRowAsync(cancellationToken).ConfigureAwait(false);
            await importer.WriteAsync(recordIndex, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
            await WriteOrNullAsync(recordId).ConfigureAwait(false);
            await WriteOrNullAsync(reason).ConfigureAwait(false);
        }
        catch
        {
            Fail();
            throw;
        }

        _records++;
        if (reason is not null)
        {
            _rejectIndexes.Add(recordIndex);
            _rejects++;
        }

        Task WriteOrNullAsync(string? value) =>
            value is null ? importer.WriteNullAsync(cancellationToken) : importer.WriteAsync(value, NpgsqlDbType.Text, cancellationToken);
    }

    public async ValueTask EndKeysAsync(CancellationToken cancellationToken = default)
    {
        await EndStagingAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var started = Stopwatch.GetTimestamp();

            // Temporary tables have no statistics until analysed; the joins below need them.
            await ExecuteAsync($"ANALYZE {StagingTable}", cancellationToken).ConfigureAwait(false);

            // The last record of each id wins: mark the earlier ones. Narrow rows, one hash aggregate.
            _skip = new BitArray(checked((int)_records));
            _duplicates = await MarkAsync(
                $"""
                SELECT s.seq
                FROM {StagingTable} s
                JOIN (SELECT record_id, max(seq) AS last FROM {StagingTable} WHERE reason IS NULL GROUP BY record_id HAVING count(*) > 1) d
                  ON d.record_id = s.record_id
                WHERE s.reason IS NULL AND s.seq < d.last
                """,
                cancellationToken).ConfigureAwait(false);

            var prior = await ReadPriorLoadsAsync(cancellationToken).ConfigureAwait(false);
            if (prior.DatasetHasRows)
            {
                var newer = prior.VersionFirstLoaded is { } firstLoaded ? await NewerRunsAsync(firstLoaded, cancellationToken).ConfigureAwait(false) : [];
                if (newer.Length > 0)
                {
                    _superseded = await MarkAsync(
                        $"""
                        SELECT s.seq FROM {StagingTable} s
                        JOIN dataprocess.records r ON r.dataset = @dataset AND r.record_id = s.record_id
                        WHERE s.reason IS NULL AND r.run_id = ANY(@newer)
                        """,
                        cancellationToken,
                        newer).ConfigureAwait(false);
                }

                // The rows this run replaces: every row its source wrote before (ids that no longer come must not
                // linger), and the rows of its ids that no newer source version holds. The COPY below inserts the new ones.
                if (prior.SourceLoaded)
                {
                    await ExecuteAsync("DELETE FROM dataprocess.records WHERE dataset = @dataset AND source = @source", cancellationToken).ConfigureAwait(false);
                }

                await ExecuteAsync(
                    $"""
                    DELETE FROM dataprocess.records r
                    USING {StagingTable} s
                    WHERE r.dataset = @dataset AND r.record_id = s.record_id AND s.reason IS NULL AND NOT (r.run_id = ANY(@newer))
                    """,
                    cancellationToken,
                    newer).ConfigureAwait(false);
            }

            // loaded_at is the transaction's start time, as now() gives every statement of it.
            await using (var command = new NpgsqlCommand("SELECT now()", _connection, _transaction))
            {
                _loadedAt = (DateTime)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
            }

            _importer = await _connection.BeginBinaryImportAsync(
                    "COPY dataprocess.records (dataset, record_id, data, source, run_id, loaded_at) FROM STDIN (FORMAT BINARY)",
                    cancellationToken)
                .ConfigureAwait(false);
            _replaceSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            _state = State.Records;
        }
        catch
        {
            Fail();
            throw;
        }
    }

    public async ValueTask AddRecordAsync(long recordIndex, string recordId, ReadOnlyMemory<byte> utf8Json, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(recordId);
        var importer = Expect(State.Records);
        StepOverRejects();
        if (recordIndex != _cursor)
        {
            Fail();
            throw new InvalidOperationException($"pass two takes the keys of pass one in order: expected record {(_cursor < _records ? _cursor : "none")}, got {recordIndex}");
        }

        _cursor++;
        if (_skip![checked((int)recordIndex)])
        {
            return;
        }

        try
        {
            await importer.StartRowAsync(cancellationToken).ConfigureAwait(false);
            await importer.WriteAsync(_run.Dataset, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
            await importer.WriteAsync(recordId, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);

            // Npgsql maps ReadOnlyMemory<byte> to jsonb as the raw UTF-8 text behind the jsonb version byte (1):
            // the record goes from our buffer to the wire without becoming a .NET string.
            await importer.WriteAsync(utf8Json, NpgsqlDbType.Jsonb, cancellationToken).ConfigureAwait(false);
            await importer.WriteAsync(_run.Source, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
            await importer.WriteAsync(_run.RunId, NpgsqlDbType.Uuid, cancellationToken).ConfigureAwait(false);
            await importer.WriteAsync(_loadedAt, NpgsqlDbType.TimestampTz, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            Fail();
            throw;
        }

        _loaded++;
    }

    public async Task<LoadResult> CompleteAsync(CancellationToken cancellationToken = default)
    {
        var importer = Expect(State.Records);
        StepOverRejects();
        if (_cursor != _records)
        {
            Fail();
            throw new InvalidOperationException($"pass two ended at record {_cursor}; pass one had {_records}");
        }

        try
        {
            var copySeconds = await EndCopyAsync(importer, cancellationToken).ConfigureAwait(false);
            var started = Stopwatch.GetTimestamp();
            var result = new LoadResult(_loaded, _rejects, _duplicates, _superseded);
            await MarkEarlierLoadsReplacedAsync(cancellationToken).ConfigureAwait(false);
            await RecordSucceededAsync(result, cancellationToken).ConfigureAwait(false);
            await InsertRejectsAsync(cancellationToken).ConfigureAwait(false);
            await CommitAsync(cancellationToken).ConfigureAwait(false);
            return result with { Timings = new LoadTimings(copySeconds, _replaceSeconds, Stopwatch.GetElapsedTime(started).TotalSeconds) };
        }
        catch
        {
            Fail();
            throw;
        }
    }

    /// <summary>Ends the COPY of the records; a row PostgreSQL refused is reported by its record index. Returns the seconds it took.</summary>
    private async Task<double> EndCopyAsync(NpgsqlBinaryImporter importer, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            await importer.CompleteAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException e) when (RefusedRow(e) is { } row)
        {
            throw Refused(e, LoadedRecordIndex(row));
        }

        _importer = null;
        await importer.DisposeAsync().ConfigureAwait(false);
        return Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    /// <summary>The source's earlier load is no longer its current one.</summary>
    private Task MarkEarlierLoadsReplacedAsync(CancellationToken cancellationToken) =>
        ExecuteAsync(
            """
            UPDATE dataprocess.runs SET replaced_by = @run_id
            WHERE dataset = @dataset AND source = @source AND status = 'succeeded' AND replaced_by IS NULL AND run_id <> @run_id
            """,
            cancellationToken);

    /// <summary>The run's ledger row as succeeded; a run id that already succeeded for another source is refused.</summary>
    private async Task RecordSucceededAsync(LoadResult result, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            """
            INSERT INTO dataprocess.runs AS r
                (run_id, dataset, source, source_etag, status, records, rejected, duplicates, superseded, started_at, finished_at, error,
                 profile_hash, key_fingerprint)
            VALUES (@run_id, @dataset, @source, @etag, 'succeeded', @records, @rejected, @duplicates, @superseded, @started_at, clock_timestamp(), NULL,
                    @profile_hash, @key_fingerprint)
            ON CONFLICT (run_id) DO UPDATE SET
                dataset = excluded.dataset, source = excluded.source, source_etag = excluded.source_etag,
                status = 'succeeded', records = excluded.records, rejected = excluded.rejected,
                duplicates = excluded.duplicates, superseded = excluded.superseded, started_at = excluded.started_at,
                finished_at = excluded.finished_at, error = NULL,
                profile_hash = excluded.profile_hash, key_fingerprint = excluded.key_fingerprint
            WHERE r.status <> 'succeeded'
            """,
            _connection,
            _transaction);
        PostgresRecordSink.AddRunParameters(command, _run);
        command.Parameters.AddWithValue("records", NpgsqlDbType.Bigint, result.Records);
        command.Parameters.AddWithValue("rejected", NpgsqlDbType.Bigint, result.Rejected);
        command.Parameters.AddWithValue("duplicates", NpgsqlDbType.Bigint, result.Duplicates);
        command.Parameters.AddWithValue("superseded", NpgsqlDbType.Bigint, result.Superseded);
        if (await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) != 1)
        {
            throw new InvalidOperationException(
                $"Run {_run.RunId} already succeeded for another source or dataset; a run id must not be reused.");
        }
    }

    public async Task FailAsync(string error, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(error);
        await EndStagingAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using (var command = new NpgsqlCommand(
                """
                INSERT INTO dataprocess.runs AS r
                    (run_id, dataset, source, source_etag, status, records, rejected, duplicates, started_at, finished_at, error,
                     profile_hash, key_fingerprint)
                VALUES (@run_id, @dataset, @source, @etag, 'failed', 0, @rejected, NULL, @started_at, clock_timestamp(), @error,
                        @profile_hash, @key_fingerprint)
                ON CONFLICT (run_id) DO UPDATE SET
                    dataset = excluded.dataset, source = excluded.source, source_etag = excluded.source_etag,
                    status = 'failed', records = 0, rejected = excluded.rejected, duplicates = NULL,
                    finished_at = excluded.finished_at, error = excluded.error,
                    profile_hash = excluded.profile_hash, key_fingerprint = excluded.key_fingerprint
                WHERE r.status <> 'succeeded'
                """,
                _connection,
                _transaction))
            {
                PostgresRecordSink.AddRunParameters(command, _run);
                command.Parameters.AddWithValue("rejected", NpgsqlDbType.Bigint, _rejects);
                command.Parameters.AddWithValue("error", NpgsqlDbType.Text, PostgresRecordSink.TruncateError(error));
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await InsertRejectsAsync(cancellationToken).ConfigureAwait(false);
            await CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            Fail();
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

    /// <summary>Ends pass one's COPY into the staging table.</summary>
    private async ValueTask EndStagingAsync(CancellationToken cancellationToken)
    {
        var importer = Expect(State.Keys);
        try
        {
            try
            {
                await importer.CompleteAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (PostgresException e) when (RefusedRow(e) is { } row)
            {
                // Pass one's rows are the records in order: row N is record N.
                throw Refused(e, row);
            }

            _importer = null;
            await importer.DisposeAsync().ConfigureAwait(false);
        }
        catch
        {
            Fail();
            throw;
        }
    }

    /// <summary>What the dataset held before this run: the rows the run may replace, and where its source version stands.</summary>
    private async Task<(bool DatasetHasRows, bool SourceLoaded, DateTime? VersionFirstLoaded)> ReadPriorLoadsAsync(CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            """
            SELECT
                EXISTS (SELECT 1 FROM dataprocess.records WHERE dataset = @dataset),
                EXISTS (SELECT 1 FROM dataprocess.runs WHERE dataset = @dataset AND source = @source AND status = 'succeeded'),
                (SELECT min(finished_at) FROM dataprocess.runs
                 WHERE dataset = @dataset AND source = @source AND source_etag = @etag AND status = 'succeeded')
            """,
            _connection,
            _transaction);
        PostgresRecordSink.AddRunParameters(command, _run);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        return (reader.GetBoolean(0), reader.GetBoolean(1), reader.IsDBNull(2) ? null : reader.GetDateTime(2));
    }

    /// <summary>
    /// The loads of other sources whose version first loaded after this run's version did (<paramref name="firstLoaded"/>):
    /// a re-processed file takes its first load's place in the order of loads, so their rows stay.
    /// </summary>
    private async Task<Guid[]> NewerRunsAsync(DateTime firstLoaded, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            """
            SELECT w.run_id FROM dataprocess.runs w
            WHERE w.dataset = @dataset AND w.status = 'succeeded' AND w.source <> @source
              AND (SELECT min(v.finished_at) FROM dataprocess.runs v
                   WHERE v.dataset = w.dataset AND v.source = w.source AND v.source_etag = w.source_etag AND v.status = 'succeeded') > @first_loaded
            """,
            _connection,
            _transaction);
        PostgresRecordSink.AddRunParameters(command, _run);
        command.Parameters.AddWithValue("first_loaded", NpgsqlDbType.TimestampTz, firstLoaded);
        var runs = new List<Guid>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            runs.Add(reader.GetGuid(0));
        }

        return [.. runs];
    }

    /// <summary>Sets the skip bit of every record index <paramref name="sql"/> returns that is not set yet; returns how many it set.</summary>
    private async Task<long> MarkAsync(string sql, CancellationToken cancellationToken, Guid[]? newer = null)
    {
        await using var command = Command(sql, newer);
        long marked = 0;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var index = checked((int)reader.GetInt64(0));
            if (!_skip![index])
            {
                _skip[index] = true;
                marked++;
            }
        }

        return marked;
    }

    private async Task ExecuteAsync(string sql, CancellationToken cancellationToken, Guid[]? newer = null)
    {
        await using var command = Command(sql, newer);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private NpgsqlCommand Command(string sql, Guid[]? newer)
    {
        var command = new NpgsqlCommand(sql, _connection, _transaction) { CommandTimeout = 0 }; // proportional to the file; the caller's token bounds it
        command.Parameters.AddWithValue("dataset", NpgsqlDbType.Text, _run.Dataset);
        command.Parameters.AddWithValue("source", NpgsqlDbType.Text, _run.Source);
        command.Parameters.AddWithValue("run_id", NpgsqlDbType.Uuid, _run.RunId);
        command.Parameters.AddWithValue("newer", NpgsqlDbType.Array | NpgsqlDbType.Uuid, newer ?? []);
        return command;
    }

    private async Task InsertRejectsAsync(CancellationToken cancellationToken)
    {
        if (_rejects > 0)
        {
            await ExecuteAsync(
                $"""
                INSERT INTO dataprocess.rejects (run_id, record_index, record_id, reason)
                SELECT @run_id, s.seq, s.record_id, s.reason
                FROM {StagingTable} s
                WHERE s.reason IS NOT NULL
                """,
                cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task CommitAsync(CancellationToken cancellationToken)
    {
        // The last point where a cancellation (SIGTERM) rolls the run back. The commit itself is not interrupted:
        // a commit cancelled in flight could have happened or not, and the ledger must say which.
        cancellationToken.ThrowIfCancellationRequested();
        await _transaction.CommitAsync(CancellationToken.None).ConfigureAwait(false);
        _state = State.Completed;
        await PostgresRecordSink.DisposeQuietlyAsync(_transaction, _connection).ConfigureAwait(false);
    }

    private void StepOverRejects()
    {
        while (_nextReject < _rejectIndexes.Count && _rejectIndexes[_nextReject] == _cursor)
        {
            _nextReject++;
            _cursor++;
        }
    }

    /// <summary>
    /// The record index of pass two's <paramref name="row"/>-th COPY row: pass two writes every key that is not
    /// skipped, and no rejects. Only on the error path, so a scan is fine.
    /// </summary>
    private long? LoadedRecordIndex(long row)
    {
        var nextReject = 0;
        long written = 0;
        for (long index = 0; index < _records; index++)
        {
            if (nextReject < _rejectIndexes.Count && _rejectIndexes[nextReject] == index)
            {
                nextReject++;
                continue;
            }

            if (!_skip![checked((int)index)] && written++ == row)
            {
                return index;
            }
        }

        return null;
    }

    /// <summary>
    /// The COPY row a data exception (class 22, e.g. 22003 "value overflows numeric format", 22P05 "unsupported
    /// Unicode escape sequence") is about: the error's context reads "COPY table, line N, column data".
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

    private static RecordRefusedException Refused(PostgresException e, long? recordIndex)
    {
        // The message text only: PostgreSQL's detail and some messages ("invalid input syntax for type numeric: "...")
        // quote the value, which may be personal data.
        var colon = e.MessageText.IndexOf(':', StringComparison.Ordinal);
        return new RecordRefusedException(recordIndex, $"PostgreSQL refused a value in it ({(colon < 0 ? e.MessageText : e.MessageText[..colon])}, SQLSTATE {e.SqlState})");
    }

    private void Fail()
    {
        if (_state is State.Keys or State.Records)
        {
            _state = State.Failed;
        }
    }

    private NpgsqlBinaryImporter Expect(State state) => _state switch
    {
        _ when _state == state && _importer is not null => _importer,
        State.Keys or State.Records => throw new InvalidOperationException(state == State.Keys
            ? "The keys were already ended; add the records (pass two) and complete."
            : "The keys were staged but never ended; call EndKeysAsync and add the records first."),
        State.Completed => throw new InvalidOperationException("The load is already complete."),
        State.Disposed => throw new ObjectDisposedException(nameof(PostgresRunLoad)),
        _ => throw new InvalidOperationException("The load failed; dispose it and record the failure."),
    };
}
