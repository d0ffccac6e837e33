namespace DataProcess.Core.Ports;

/// <summary>Identifies one run of the pipeline over one version of one source object.</summary>
public sealed record RunDescriptor(Guid RunId, string Dataset, string Source, string SourceETag, DateTimeOffset StartedAt)
{
    /// <summary>The run of one source object, named in the ledger by <see cref="LedgerSource"/>.</summary>
    public static RunDescriptor Of(Guid runId, string dataset, ObjectRef source, string sourceETag, DateTimeOffset startedAt) =>
        new(runId, dataset, LedgerSource(source), sourceETag, startedAt);

    /// <summary>How the ledger names a source (<c>bucket/key</c>): replays are found, and runs looked up, by it.</summary>
    public static string LedgerSource(ObjectRef source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return $"{source.Bucket}/{source.Key}";
    }
}

/// <summary>Counts of a committed load.</summary>
public sealed record LoadResult(long Records, long Rejected, long Duplicates);

/// <summary>
/// The sink port: PostgreSQL in every deployment. A load is one transaction: its rows, its rejects
/// and its ledger row become visible together at <see cref="IRunLoad.CompleteAsync"/>, or not at all.
/// </summary>
public interface IRecordSink
{
    /// <summary>
    /// Starts the load of <paramref name="run"/>. Returns <c>null</c> when the same source and etag
    /// already loaded successfully for the dataset; the sink then records the run as skipped.
    /// </summary>
    Task<IRunLoad?> BeginAsync(RunDescriptor run, CancellationToken cancellationToken = default);

    /// <summary>Records the run as failed with <paramref name="error"/>, which must hold no record data.</summary>
    Task RecordFailureAsync(RunDescriptor run, string error, CancellationToken cancellationToken = default);
}

/// <summary>An open load. Disposing it without completing rolls everything back.</summary>
public interface IRunLoad : IAsyncDisposable
{
    ValueTask AddRecordAsync(long recordIndex, string recordId, ReadOnlyMemory<byte> utf8Json, CancellationToken cancellationToken = default);

    ValueTask AddRejectAsync(long recordIndex, string? recordId, string reason, CancellationToken cancellationToken = default);

    /// <summary>Upserts the staged records (the last duplicate of an id wins), writes the ledger row and commits.</summary>
    Task<LoadResult> CompleteAsync(CancellationToken cancellationToken = default);
}

/// <summary>
/// The sink cannot store a record the JSON reader accepted: JSON allows values a database may not hold (a number
/// like <c>1e99999999</c> overflows PostgreSQL's numeric, <c>\u0000</c> cannot be in a jsonb string). The message
/// says what is wrong with the record, never its content.
/// </summary>
public sealed class RecordRefusedException(long? recordIndex, string problem, string? source = null)
    : Exception($"{(source is null ? null : source + ": ")}{(recordIndex is { } index ? $"record {index}" : "a record")} cannot be stored: {problem}")
{
    /// <summary>The record's index in the source, when the sink knows it.</summary>
    public long? RecordIndex { get; } = recordIndex;

    public string Problem { get; } = problem;
}

/// <summary>Optionally implemented by an <see cref="IRunLoad"/>: where its time went, for the run's timings.</summary>
public interface IRunLoadTimings
{
    /// <summary>Seconds spent finishing the COPY (flushing the last rows) in <see cref="IRunLoad.CompleteAsync"/>.</summary>
    double CopyCompleteSeconds { get; }

    /// <summary>Seconds spent moving the staged rows into the records table.</summary>
    double UpsertSeconds { get; }

    /// <summary>Seconds spent on the ledger row, the rejects and the commit.</summary>
    double CommitSeconds { get; }
}

/// <summary>
/// Optionally implemented by an <see cref="IRunLoad"/> that loads faster when it knows the run's keys first:
/// the caller makes two passes over the run, in the same order. Pass one: <see cref="AddKeyAsync"/> for every
/// record and <see cref="IRunLoad.AddRejectAsync"/> for every reject, then <see cref="EndKeysAsync"/>. Pass two:
/// <see cref="IRunLoad.AddRecordAsync"/> for every record and <see cref="IRunLoad.AddRejectAsync"/> again for
/// every reject (counted once), then <see cref="IRunLoad.CompleteAsync"/>.
/// </summary>
public interface IKeyedRunLoad : IRunLoad
{
    ValueTask AddKeyAsync(long recordIndex, string recordId, CancellationToken cancellationToken = default);

    ValueTask EndKeysAsync(CancellationToken cancellationToken = default);
}
