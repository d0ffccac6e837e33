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
/// <para>
/// Two ways to load. One pass (<see cref="IRunLoad"/>): every row goes to the staging table, and
/// <see cref="CompleteAsync"/> upserts the last row of each id. Two passes (<see cref="IKeyedRunLoad"/>, what
/// Consolidation uses): pass one stages only the keys and the rejects (narrow rows); <see cref="EndKeysAsync"/> finds
/// the superseded duplicates (kept as one bit per staged row), deletes the dataset's rows whose ids the run
/// replaces, and opens a binary COPY straight into <c>dataprocess.records</c>; pass two streams the winning records
/// into it. Each record is then written once, by COPY, with no sort and no ON CONFLICT: the same rows, counts and
/// all-or-nothing transaction as the upsert, at close to the speed of a plain COPY.
/// </para>
/// </remarks>
internal sealed class PostgresRunLoad : IKeyedRunLoad, IRunLoadTimings
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
    private Mode _mode = Mode.Undecided;
    private System.Collections.BitArray? _superseded;
    private long _replaySequence;
    private long _loaded;
    private DateTime _loadedAt;

    // True while every row was added with its record index as sequence number (Consolidation does so): a
    // row the database refuses can then be named by its record index.
    private bool _sequenceIsRecordIndex = true;

    // Pass one's rejects, by sequence number: they have no row in pass two's COPY.
    private List<long>? _rejectSequences;

    internal PostgresRunLoad(RunDescriptor run, NpgsqlConnection connection, NpgsqlTransaction transaction, NpgsqlBinaryImporter importer)
    {
        _run = run;
        _connection = connection;
        _transaction = transaction;
        _importer = importer;
    }

    public double CopyCompleteSeconds { get; private set; }

    public double UpsertSeconds { get; private set; }

    public double CommitSeconds { get; private set; }

    private enum Mode
    {
        Undecided,
        OnePass,
        Keys,
        Records,
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
        if (_mode == Mode.Records)
        {
            await AddTargetRecordAsync(importer, recordId, utf8Json, cancellationToken).ConfigureAwait(false);
            return;
        }

        EnterMode(Mode.OnePass);
        await StageRowAsync(importer, recordIndex, recordId, utf8Json, reason: null, cancellationToken).ConfigureAwait(false);
        _stagedRecords++;
    }

    public async ValueTask AddRejectAsync(long recordIndex, string? recordId, string reason, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(reason);
        var importer = EnsureOpen();
        if (_mode == Mode.Records)
        {
            // Staged (and counted) in pass one.
            NextReplaySequence();
            return;
        }

        // A reject does not decide the pass: the first line of a keyed load may well be one.
        if (_mode != Mode.OnePass)
        {
            (_rejectSequences ??= []).Add(_sequence);
        }

        await StageRowAsync(importer, recordIndex, recordId, utf8Json: null, reason, cancellationToken).ConfigureAwait(false);
        _rejects++;
    }

    public async ValueTask AddKeyAsync(long recordIndex, string recordId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(recordId);
        var importer = EnsureOpen();
        EnterMode(Mode.Keys);
        await StageRowAsync(importer, recordIndex, recordId, utf8Json: null, reason: null, cancellationToken).ConfigureAwait(false);
        _stagedRecords++;
    }

    /// <summary>
    /// One row of the staging table, <c>(seq, record_index, record_id, data, reason)</c>: a record (data), a reject
    /// (reason), or a key of the two-pass load (neither).
    /// </summary>
    private async ValueTask StageRowAsync(NpgsqlBinaryImporter importer, long recordIndex, string? recordId, ReadOnlyMemory<byte>? utf8Json, string? reason, CancellationToken cancellationToken)
    {
        _sequenceIsRecordIndex &= _sequence == recordIndex;
        try
        {
            await importer.StartRowAsync(cancellationToken).ConfigureAwait(false);
            await importer.WriteAsync(_sequence, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
            await importer.WriteAsync(recordIndex, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
            await WriteOrNullAsync(recordId, NpgsqlDbType.Text).ConfigureAwait(false);
            if (utf8Json is { } json)
            {
                // Npgsql maps ReadOnlyMemory<byte> to jsonb as the raw UTF-8 text behind the jsonb version byte (1):
                // the record goes from our buffer to the wire without becoming a .NET string.
                await importer.WriteAsync(json, NpgsqlDbType.Jsonb, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await importer.WriteNullAsync(cancellationToken).ConfigureAwait(false);
            }

            await WriteOrNullAsync(reason, NpgsqlDbType.Text).ConfigureAwait(false);
        }
        catch
        {
            _state = State.Failed;
            throw;
        }

        _sequence++;

        Task WriteOrNullAsync(string? value, NpgsqlDbType type) =>
            value is null ? importer.WriteNullAsync(cancellationToken) : importer.WriteAsync(value, type, cancellationToken);
    }

    public async ValueTask EndKeysAsync(CancellationToken cancellationToken = default)
    {
        var importer = EnsureOpen();
        EnterMode(Mode.Keys);
        try
        {
            await importer.CompleteAsync(cancellationToken).ConfigureAwait(false);
            _importer = null;
            await importer.DisposeAsync().ConfigureAwait(false);

            CopyCompleteSeconds = 0;
            var started = System.Diagnostics.Stopwatch.GetTimestamp();

            // Temporary tables have no statistics until analysed; the joins below need them.
            await using (var command = new NpgsqlCommand($"ANALYZE {StagingTable}", _connection, _transaction))
            {
                command.CommandTimeout = 0;
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            // The last staged row of each id wins: mark the earlier ones. Narrow rows, one hash aggregate.
            _superseded = new System.Collections.BitArray(checked((int)_sequence));
            await using (var command = new NpgsqlCommand(
                $"""
                SELECT s.seq
                FROM {StagingTable} s
                JOIN (SELECT record_id, max(seq) AS last FROM {StagingTable} WHERE reason IS NULL GROUP BY record_id HAVING count(*) > 1) d
                  ON d.record_id = s.record_id
                WHERE s.reason IS NULL AND s.seq < d.last
                """,
                _connection,
                _transaction))
            {
                command.CommandTimeout = 0;
                await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    _superseded[checked((int)reader.GetInt64(0))] = true;
                }
            }

            // The rows this run replaces (a later file upserts an earlier one's ids): delete them, the COPY below
            // inserts their new versions. Nothing to do on a dataset's first load.
            await using (var command = new NpgsqlCommand(
                $"""
                DELETE FROM dataprocess.records r
                USING {StagingTable} s
                WHERE r.dataset = @dataset AND r.record_id = s.record_id AND s.reason IS NULL
                  AND EXISTS (SELECT 1 FROM dataprocess.records e WHERE e.dataset = @dataset)
                """,
                _connection,
                _transaction))
            {
                command.CommandTimeout = 0;
                command.Parameters.AddWithValue("dataset", NpgsqlDbType.Text, _run.Dataset);
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            // loaded_at is the transaction's start time, what now() gives the one-pass upsert.
            await using (var command = new NpgsqlCommand("SELECT now()", _connection, _transaction))
            {
                _loadedAt = (DateTime)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
            }

            _importer = await _connection.BeginBinaryImportAsync(
                    "COPY dataprocess.records (dataset, record_id, data, source, run_id, loaded_at) FROM STDIN (FORMAT BINARY)",
                    cancellationToken)
                .ConfigureAwait(false);
            _mode = Mode.Records;
            UpsertSeconds = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds;
        }
        catch
        {
            _state = State.Failed;
            throw;
        }
    }

    public async Task<LoadResult> CompleteAsync(CancellationToken cancellationToken = default)
    {
        var importer = EnsureOpen();
        if (_mode == Mode.Keys)
        {
            throw new InvalidOperationException("The keys were staged but never ended; call EndKeysAsync and add the records first.");
        }

        if (_mode == Mode.Records && _replaySequence != _sequence)
        {
            _state = State.Failed;
            throw new InvalidOperationException($"The second pass added {_replaySequence} rows, the first {_sequence}.");
        }

        try
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            try
            {
                await importer.CompleteAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (PostgresException e) when (RefusedRow(e) is { } row)
            {
                throw Refused(e, _mode == Mode.Records ? TargetRowSequence(row) : row);
            }

            _importer = null;
            await importer.DisposeAsync().ConfigureAwait(false);
            CopyCompleteSeconds = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds;
            started = System.Diagnostics.Stopwatch.GetTimestamp();

            // The last staged row of each id wins; one statement, so the upsert never meets the same key twice.
            long loaded = _loaded;
            if (_mode != Mode.Records)
            {
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

                UpsertSeconds = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds;
            }

            started = System.Diagnostics.Stopwatch.GetTimestamp();
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
            CommitSeconds = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds;
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

    /// <summary>Pass two: the record goes straight into the records table, unless a later row of its id wins.</summary>
    private async ValueTask AddTargetRecordAsync(NpgsqlBinaryImporter importer, string recordId, ReadOnlyMemory<byte> utf8Json, CancellationToken cancellationToken)
    {
        var sequence = NextReplaySequence();
        if (_superseded![checked((int)sequence)])
        {
            return;
        }

        try
        {
            await importer.StartRowAsync(cancellationToken).ConfigureAwait(false);
            await importer.WriteAsync(_run.Dataset, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
            await importer.WriteAsync(recordId, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
            await importer.WriteAsync(utf8Json, NpgsqlDbType.Jsonb, cancellationToken).ConfigureAwait(false);
            await importer.WriteAsync(_run.Source, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
            await importer.WriteAsync(_run.RunId, NpgsqlDbType.Uuid, cancellationToken).ConfigureAwait(false);
            await importer.WriteAsync(_loadedAt, NpgsqlDbType.TimestampTz, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            _state = State.Failed;
            throw;
        }

        _loaded++;
    }

    private long NextReplaySequence()
    {
        if (_replaySequence >= _sequence)
        {
            _state = State.Failed;
            throw new InvalidOperationException($"The second pass added more rows than the first ({_sequence}).");
        }

        return _replaySequence++;
    }

    private void EnterMode(Mode mode)
    {
        if (_mode == Mode.Undecided)
        {
            _mode = mode;
        }
        else if (_mode != mode)
        {
            _state = State.Failed;
            throw new InvalidOperationException($"A load takes its rows in one pass or in two (keys, then records), not both: it is in {_mode} mode.");
        }
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

    /// <summary>
    /// The sequence number of pass two's <paramref name="row"/>-th COPY row: pass two writes every staged key
    /// that no later duplicate supersedes, and no rejects. Only on the error path, so a scan is fine.
    /// </summary>
    private long TargetRowSequence(long row)
    {
        var rejects = _rejectSequences ?? [];
        var nextReject = 0;
        long written = 0;
        for (long sequence = 0; sequence < _sequence; sequence++)
        {
            if (nextReject < rejects.Count && rejects[nextReject] == sequence)
            {
                nextReject++;
                continue;
            }

            if (_superseded![checked((int)sequence)])
            {
                continue;
            }

            if (written++ == row)
            {
                return sequence;
            }
        }

        _sequenceIsRecordIndex = false;
        return row;
    }

    private NpgsqlBinaryImporter EnsureOpen() => _state switch
    {
        State.Open when _importer is not null => _importer,
        State.Completed => throw new InvalidOperationException("The load is already complete."),
        State.Disposed => throw new ObjectDisposedException(nameof(PostgresRunLoad)),
        _ => throw new InvalidOperationException("The load failed; dispose it and record the failure."),
    };
}
