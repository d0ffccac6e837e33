using System.Text.Json.Serialization;
using DataProcess.Core.Ports;

namespace DataProcess.Core.Payloads;

/// <summary>Where a stage writes its output: a bucket and a key prefix under which run folders are made.</summary>
public sealed record StagingLocation(string Bucket, string Prefix)
{
    public ObjectRef For(Guid runId, string stage) => new(Bucket, $"{Prefix.TrimEnd('/')}/{runId:D}/{stage}.ndjson");
}

/// <summary>
/// Input of the Enrichment and Anonymization functions (and the start of Consolidation's): object
/// references and identifiers only, never record data. In AWS the state machine builds it from the
/// EventBridge "Object Created" event.
/// </summary>
public sealed record StageRequest
{
    public required Guid RunId { get; init; }

    /// <summary>When the run started; the reference time of <c>age</c>, so a retry computes the same values.</summary>
    public required DateTimeOffset StartedAt { get; init; }

    public required ObjectRef Source { get; init; }

    /// <summary>The etag of the source version being processed (S3's, or a content hash locally).</summary>
    public required string SourceETag { get; init; }

    public required ObjectRef Profile { get; init; }

    public required StagingLocation Staging { get; init; }

    /// <summary>Load again even when the same source version, profile and key already loaded (<c>--reprocess</c>). Default false.</summary>
    public bool Reprocess { get; init; }
}

/// <summary>Output of the Enrichment and Anonymization functions.</summary>
public sealed record StageResult
{
    public required Guid RunId { get; init; }

    /// <summary><c>enrichment</c> or <c>anonymization</c>.</summary>
    public required string Stage { get; init; }

    public required ObjectRef Output { get; init; }

    public required long Records { get; init; }

    public required long Rejected { get; init; }

    public required long BytesRead { get; init; }

    public required double Seconds { get; init; }

    /// <summary>The canonical hash of the profile the stage read (<see cref="Profiles.Profile.Hash"/>).</summary>
    public string? ProfileHash { get; init; }

    /// <summary>The fingerprint of the HMAC key the stage used (Anonymization only; <see cref="HmacKey.Fingerprint"/>).</summary>
    public string? KeyFingerprint { get; init; }
}

/// <summary>Input of the Consolidation function: the stage request plus both stage results.</summary>
public sealed record ConsolidationRequest
{
    public required Guid RunId { get; init; }

    public required DateTimeOffset StartedAt { get; init; }

    public required ObjectRef Source { get; init; }

    public required string SourceETag { get; init; }

    public required ObjectRef Profile { get; init; }

    public required StagingLocation Staging { get; init; }

    /// <summary>The Parallel state's output: one result per branch, in any order.</summary>
    public required IReadOnlyList<StageResult> Stages { get; init; }

    public bool Reprocess { get; init; }

    /// <summary>What the state machine passes on after the Parallel state: the request plus both results.</summary>
    public static ConsolidationRequest After(StageRequest request, IReadOnlyList<StageResult> stages)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new()
        {
            RunId = request.RunId,
            StartedAt = request.StartedAt,
            Source = request.Source,
            SourceETag = request.SourceETag,
            Profile = request.Profile,
            Staging = request.Staging,
            Stages = stages,
            Reprocess = request.Reprocess,
        };
    }
}

/// <summary>Output of the Consolidation function and the end of a run.</summary>
public sealed record RunSummary
{
    public required Guid RunId { get; init; }

    public required string Dataset { get; init; }

    /// <summary><c>succeeded</c> or <c>skipped</c>; a failed run ends in an error instead.</summary>
    public required string Status { get; init; }

    public required long Records { get; init; }

    public required long Rejected { get; init; }

    public required long Duplicates { get; init; }

    /// <summary>Ids of the file whose row a newer source version holds: they keep that row (only when a file is re-processed).</summary>
    public long Superseded { get; init; }

    public required double Seconds { get; init; }

    /// <summary>A skipped run: the run that loaded the same source version, profile and key, whose rows stay.</summary>
    public Guid? MatchedRunId { get; init; }

    /// <summary>Where the run's time went, per stage (seconds); for benchmarks and logs. Absent for a skipped run.</summary>
    public RunTimings? Timings { get; init; }

    /// <summary>A run that ended without loading: <paramref name="matchedRunId"/> loaded the same identity.</summary>
    public static RunSummary Skipped(Guid runId, string dataset, Guid matchedRunId, double seconds) => new()
    {
        RunId = runId,
        Dataset = dataset,
        Status = "skipped",
        Records = 0,
        Rejected = 0,
        Duplicates = 0,
        Seconds = seconds,
        MatchedRunId = matchedRunId,
    };
}

/// <summary>
/// The split of a run's time, in seconds. Consolidation's parts may overlap each other (reading and merging
/// run alongside the COPY), so they need not add up to its wall time.
/// </summary>
public sealed record RunTimings
{
    public double Enrichment { get; init; }

    public double Anonymization { get; init; }

    /// <summary>Consolidation's first pass: reading the keys and rejects and staging them.</summary>
    public double Keys { get; init; }

    /// <summary>Reading both staged outputs and merging each record.</summary>
    public double ReadMerge { get; init; }

    /// <summary>Streaming the rows to PostgreSQL (binary COPY), until the COPY completes.</summary>
    public double Copy { get; init; }

    /// <summary>Between the passes: finding the duplicates and the rows the run replaces, and deleting those.</summary>
    public double Upsert { get; init; }

    /// <summary>The ledger row, the rejects and the commit.</summary>
    public double Commit { get; init; }
}

/// <summary>
/// Input of the failure path: the run's request and the error the state machine caught
/// (<c>{"Error": ..., "Cause": ...}</c>). It records the run as failed and quarantines the source.
/// </summary>
public sealed record RunFailure
{
    public required Guid RunId { get; init; }

    public required DateTimeOffset StartedAt { get; init; }

    public required ObjectRef Source { get; init; }

    public required string SourceETag { get; init; }

    public required ObjectRef Profile { get; init; }

    public required CaughtError Error { get; init; }

    /// <summary>What the state machine's Catch passes to the failure path for <paramref name="request"/>.</summary>
    public static RunFailure Of(StageRequest request, CaughtError error)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new()
        {
            RunId = request.RunId,
            StartedAt = request.StartedAt,
            Source = request.Source,
            SourceETag = request.SourceETag,
            Profile = request.Profile,
            Error = error,
        };
    }
}

/// <summary>The shape Step Functions gives a caught error.</summary>
public sealed record CaughtError
{
    [JsonPropertyName("Error")]
    public required string Error { get; init; }

    [JsonPropertyName("Cause")]
    public string? Cause { get; init; }
}

/// <summary>Output of the failure path.</summary>
public sealed record FailureRecorded
{
    public required Guid RunId { get; init; }

    public required string Status { get; init; }

    public ObjectRef? QuarantinedAs { get; init; }
}

/// <summary>Output of the replay check: whether the source already loaded, and then the skipped run's summary.</summary>
public sealed record ReplayCheck
{
    public required bool AlreadyLoaded { get; init; }

    public RunSummary? Summary { get; init; }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    RespectRequiredConstructorParameters = true,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip)]
[JsonSerializable(typeof(StageRequest))]
[JsonSerializable(typeof(StageResult))]
[JsonSerializable(typeof(ConsolidationRequest))]
[JsonSerializable(typeof(RunSummary))]
[JsonSerializable(typeof(RunFailure))]
[JsonSerializable(typeof(FailureRecorded))]
[JsonSerializable(typeof(ReplayCheck))]
public sealed partial class PayloadJsonContext : JsonSerializerContext;
