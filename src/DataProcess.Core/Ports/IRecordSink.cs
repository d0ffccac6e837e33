namespace DataProcess.Core.Ports;

/// <summary>
/// One run of the pipeline over one version of one source object. Its identity — what decides whether a run is
/// the same as one that already loaded — is <see cref="Dataset"/>, <see cref="Source"/>, <see cref="SourceETag"/>,
/// <see cref="ProfileHash"/> and <see cref="KeyFingerprint"/>: the same identity loads the same rows.
/// </summary>
public sealed record RunDescriptor(Guid RunId, string Dataset, string Source, string SourceETag, DateTimeOffset StartedAt)
{
    /// <summary>The profile's canonical hash (<see cref="Profiles.Profile.Hash"/>); null only on a failure path that could not read it.</summary>
    public string? ProfileHash { get; init; }

    /// <summary>The HMAC key's fingerprint (<see cref="HmacKey.Fingerprint"/>), never the key; null where the key is not known (the failure path).</summary>
    public string? KeyFingerprint { get; init; }

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

/// <summary>Where a committed load's time went, in seconds.</summary>
public sealed record LoadTimings(double CopyComplete, double Replace, double Commit)
{
    public static LoadTimings None { get; } = new(0, 0, 0);
}

/// <summary>
/// Counts of a committed load. <see cref="Records"/>: rows written (distinct ids); <see cref="Duplicates"/>: records
/// whose id came again later in the same file; <see cref="Superseded"/>: ids whose row a newer source version holds,
/// left as they are (see <see cref="IRunLoad.EndKeysAsync"/>).
/// </summary>
public sealed record LoadResult(long Records, long Rejected, long Duplicates, long Superseded)
{
    public LoadTimings Timings { get; init; } = LoadTimings.None;
}

/// <summary>What <see cref="IRecordSink.BeginAsync"/> found: a load to fill, or the run that already loaded the same identity.</summary>
public abstract record LoadStart
{
    private LoadStart()
    {
    }

    /// <summary>The load is open; the caller owns (and disposes) it.</summary>
    public sealed record Started(IRunLoad Load) : LoadStart;

    /// <summary>The same identity already loaded as <paramref name="MatchedRunId"/>; the run is recorded as skipped.</summary>
    public sealed record Skipped(Guid MatchedRunId) : LoadStart;
}

/// <summary>
/// The sink port: PostgreSQL in every deployment. A load is one transaction: its rows, its rejects
/// and its ledger row become visible together at <see cref="IRunLoad.CompleteAsync"/>, or not at all.
/// </summary>
public interface IRecordSink
{
    /// <summary>
    /// The replay check: when the current load of the run's source in its dataset has the run's identity, records
    /// the run as skipped and returns the run it matched; otherwise returns null and records nothing. No lock, no
    /// load: <see cref="BeginAsync"/> checks again inside its transaction.
    /// </summary>
    Task<Guid?> SkipIfLoadedAsync(RunDescriptor run, CancellationToken cancellationToken = default);

    /// <summary>
    /// Starts the load of <paramref name="run"/>, serialised with every other load of its dataset. When the run's
    /// identity already loaded (unless <paramref name="reprocess"/>), or this very run already succeeded, the run
    /// is recorded as skipped and nothing is opened.
    /// </summary>
    Task<LoadStart> BeginAsync(RunDescriptor run, bool reprocess, CancellationToken cancellationToken = default);

    /// <summary>Records the run as failed with <paramref name="error"/>, which must hold no record data.</summary>
    Task RecordFailureAsync(RunDescriptor run, string error, CancellationToken cancellationToken = default);
}

/// <summary>
/// An open load, filled in two passes over the run, in record order. Disposing it without completing rolls
/// everything back.
/// <list type="number">
/// <item>Pass one: every record of the source, as <see cref="AddKeyAsync"/> (its id) or <see cref="AddRejectAsync"/>,
/// with record indexes 0, 1, 2, … each exactly once. Then <see cref="EndKeysAsync"/> — or <see cref="FailAsync"/>
/// to end the run as failed with its rejects kept.</item>
/// <item>Pass two: <see cref="AddRecordAsync"/> for every key of pass one, in the same order (rejects are not
/// repeated). Then <see cref="CompleteAsync"/>.</item>
/// </list>
/// </summary>
public interface IRunLoad : IAsyncDisposable
{
    ValueTask AddKeyAsync(long recordIndex, string recordId, CancellationToken cancellationToken = default);

    ValueTask AddRejectAsync(long recordIndex, string? recordId, string reason, CancellationToken cancellationToken = default);

    /// <summary>
    /// Ends pass one. The last record of each id wins. The rows this run replaces go: every row of the run's source
    /// in the dataset, and every row of its ids — except ids whose row a newer source version holds (one whose first
    /// successful load came after this source version's first one), which keep it.
    /// </summary>
    ValueTask EndKeysAsync(CancellationToken cancellationToken = default);

    ValueTask AddRecordAsync(long recordIndex, string recordId, ReadOnlyMemory<byte> utf8Json, CancellationToken cancellationToken = default);

    /// <summary>Writes the ledger row and the rejects and commits.</summary>
    Task<LoadResult> CompleteAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Instead of <see cref="EndKeysAsync"/>: commits the run as failed with <paramref name="error"/> and its rejects
    /// (the diagnosis), and no record. The load is then complete.
    /// </summary>
    Task FailAsync(string error, CancellationToken cancellationToken = default);
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
