using System.Buffers;
using System.Diagnostics;
using DataProcess.Core.Payloads;
using DataProcess.Core.Ports;
using DataProcess.Core.Staging;

namespace DataProcess.Core.Stages;

/// <summary>
/// Reads the Enrichment and Anonymization outputs in step, merges each record (the anonymized record
/// with the enrichment fields added at its top level) and loads the run into the sink in one
/// transaction. Refuses to merge outputs whose records disagree.
/// </summary>
public sealed class ConsolidationStage(IObjectStore store, IRecordSink sink)
{
    public const string Enrichment = "enrichment";
    public const string Anonymization = "anonymization";

    public async Task<RunSummary> RunAsync(ConsolidationRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var stopwatch = Stopwatch.StartNew();
        var enrichment = FindStage(request, Enrichment);
        var anonymization = FindStage(request, Anonymization);
        if (enrichment.Records != anonymization.Records)
        {
            throw new StagingException($"the stages disagree: enrichment read {enrichment.Records} records, anonymization {anonymization.Records}");
        }

        var profile = await RecordStage.LoadProfileAsync(store, request.Profile, cancellationToken);
        var run = Describe(request, profile, enrichment, anonymization);
        var start = await sink.BeginAsync(run, request.Reprocess, cancellationToken);
        if (start is LoadStart.Skipped skipped)
        {
            return RunSummary.Skipped(request.RunId, profile.Dataset, skipped.MatchedRunId, stopwatch.Elapsed.TotalSeconds);
        }

        await using var load = new TimedRunLoad(((LoadStart.Started)start).Load);
        var keysStarted = Stopwatch.GetTimestamp();
        var keys = await AddKeysAsync(load, anonymization, cancellationToken);
        var keysSeconds = Stopwatch.GetElapsedTime(keysStarted).TotalSeconds;
        if (keys.Failure is null && RejectRatioExceeded(profile, keys, request) is { } tooMany)
        {
            // The rejects are the diagnosis: they stay, with a failed ledger row, and no record loads.
            await load.FailAsync(tooMany, cancellationToken);
            throw new RejectRatioExceededException(tooMany);
        }

        if (keys.Failure is null)
        {
            await load.EndKeysAsync(cancellationToken);
        }

        var recordsStarted = Stopwatch.GetTimestamp();
        await AddRecordsAsync(load, enrichment, anonymization, keys.Failure, cancellationToken);
        var recordsSeconds = Stopwatch.GetElapsedTime(recordsStarted).TotalSeconds;

        LoadResult result;
        try
        {
            result = await load.CompleteAsync(cancellationToken);
        }
        catch (RecordRefusedException e)
        {
            // Name the file, as every other refusal of the input does.
            throw new RecordRefusedException(e.RecordIndex, e.Problem, RecordStage.SourceName(request.Source));
        }

        var timings = new RunTimings
        {
            Enrichment = enrichment.Seconds,
            Keys = keysSeconds,
            Anonymization = anonymization.Seconds,
            ReadMerge = recordsSeconds - load.RecordSeconds,
            Copy = load.RecordSeconds + result.Timings.CopyComplete,
            Upsert = result.Timings.Replace,
            Commit = result.Timings.Commit,
        };
        return Succeeded(request, profile.Dataset, result, stopwatch) with { Timings = timings };
    }

    /// <summary>
    /// The run's identity. Both stages must have read the profile Consolidation reads (a profile replaced during the
    /// run would mix two versions in one load), and the key is the one Anonymization used.
    /// </summary>
    private static RunDescriptor Describe(ConsolidationRequest request, Profiles.Profile profile, StageResult enrichment, StageResult anonymization)
    {
        foreach (var stage in (StageResult[])[enrichment, anonymization])
        {
            if (!string.Equals(stage.ProfileHash, profile.Hash, StringComparison.Ordinal))
            {
                throw new StagingException(stage.ProfileHash is null
                    ? $"the {stage.Stage} result does not say which profile it read"
                    : $"the profile {RecordStage.SourceName(request.Profile)} changed during the run: {stage.Stage} read another version; run the file again");
            }
        }

        var fingerprint = anonymization.KeyFingerprint ?? throw new StagingException("the anonymization result does not say which key it used");
        return RunDescriptor.Of(request.RunId, profile.Dataset, request.Source, request.SourceETag, request.StartedAt) with
        {
            ProfileHash = profile.Hash,
            KeyFingerprint = fingerprint,
        };
    }

    private static string? RejectRatioExceeded(Profiles.Profile profile, KeyPass keys, ConsolidationRequest request)
    {
        var total = keys.Keys + keys.Rejects;
        if (profile.MaxRejectRatio is not { } limit || total == 0 || keys.Rejects <= limit * total)
        {
            return null;
        }

        var percent = 100.0 * keys.Rejects / total;
        return FormattableString.Invariant(
            $"{RecordStage.SourceName(request.Source)}: {keys.Rejects} of {total} records were rejected ({percent:0.#}%), more than the profile's maxRejectRatio of {limit}; nothing was loaded, the rejects are kept in dataprocess.rejects");
    }

    /// <summary>What pass one saw: how many keys and rejects, or why the anonymization output cannot load.</summary>
    private readonly record struct KeyPass(long Keys, long Rejects, StagingException? Failure);

    /// <summary>
    /// Pass one: every record's id and every reject, from the anonymization output (the one whose records load).
    /// Pass two checks both outputs in step.
    /// </summary>
    /// <returns>The counts, or why the anonymization output cannot load; the second pass then reports the first problem of either output.</returns>
    private async Task<KeyPass> AddKeysAsync(IRunLoad load, StageResult anonymization, CancellationToken cancellationToken)
    {
        await using var anonymized = new StagingKeyReader(await store.OpenReadAsync(anonymization.Output, cancellationToken), RecordStage.SourceName(anonymization.Output));
        long count = 0;
        long rejects = 0;
        while (true)
        {
            try
            {
                if (!await anonymized.ReadAsync(cancellationToken))
                {
                    break;
                }
            }
            catch (StagingException e)
            {
                return new KeyPass(count - rejects, rejects, e);
            }

            if (anonymized.Index != count || (anonymized.Reject is null && anonymized.Id is null))
            {
                return new KeyPass(count - rejects, rejects, new StagingException($"the stage outputs are out of step at record {count}: anonymization has record {anonymized.Index}"));
            }

            if (anonymized.Reject is { } reason)
            {
                await load.AddRejectAsync(anonymized.Index, anonymized.Id, reason, cancellationToken);
                rejects++;
            }
            else
            {
                await load.AddKeyAsync(anonymized.Index, anonymized.Id!, cancellationToken);
            }

            count++;
        }

        return new KeyPass(count - rejects, rejects, null);
    }

    /// <summary>
    /// Pass two: both outputs in step, each accepted record merged and added. After a failed pass one it adds
    /// nothing and only finds the first problem of either output, to report it as a single pass would.
    /// </summary>
    private async Task AddRecordsAsync(IRunLoad load, StageResult enrichment, StageResult anonymization, StagingException? keysFailure, CancellationToken cancellationToken)
    {
        await using var anonymized = new StagingReader(await store.OpenReadAsync(anonymization.Output, cancellationToken), RecordStage.SourceName(anonymization.Output));
        await using var enriched = new StagingReader(await store.OpenReadAsync(enrichment.Output, cancellationToken), RecordStage.SourceName(enrichment.Output));
        var merged = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            long count = 0;
            while (true)
            {
                var moreAnonymized = await anonymized.ReadAsync(cancellationToken);
                var moreEnriched = await enriched.ReadAsync(cancellationToken);
                if (moreAnonymized != moreEnriched)
                {
                    throw new StagingException($"the stage outputs end at different records: {(moreAnonymized ? "enrichment" : "anonymization")} ends after record {count - 1}");
                }

                if (!moreAnonymized)
                {
                    break;
                }

                CheckInStep(anonymized, enriched, count);
                if (keysFailure is null && anonymized.Reject is null)
                {
                    var length = Merge(anonymized.Payload.Span, enriched.Payload.Span, ref merged);
                    await load.AddRecordAsync(anonymized.Index, anonymized.Id!, merged.AsMemory(0, length), cancellationToken);
                }

                count++;
            }

            if (count != anonymization.Records)
            {
                throw new StagingException($"the stage outputs hold {count} records but the stages reported {anonymization.Records}");
            }

            if (keysFailure is not null)
            {
                throw keysFailure;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(merged);
        }
    }

    private static void CheckInStep(StagingReader anonymized, StagingReader enriched, long expected)
    {
        if (anonymized.Index != expected || enriched.Index != expected)
        {
            throw new StagingException($"the stage outputs are out of step at record {expected}: anonymization has record {anonymized.Index}, enrichment record {enriched.Index}");
        }

        if (anonymized.Reject is null && enriched.Reject is not null)
        {
            throw new StagingException($"the stage outputs disagree at record {expected}: enrichment rejected it, anonymization did not");
        }

        if (anonymized.Reject is null && !string.Equals(anonymized.Id, enriched.Id, StringComparison.Ordinal))
        {
            throw new StagingException($"the record ids of the stage outputs disagree at record {expected}");
        }
    }

    /// <summary>
    /// Splices the enrichment object's members into the record object: <c>{a} + {b}</c> → <c>{a,b}</c>.
    /// An enrichment field named like a record field wins, as jsonb keeps the last of duplicate keys.
    /// </summary>
    internal static int Merge(ReadOnlySpan<byte> record, ReadOnlySpan<byte> enrichment, ref byte[] buffer)
    {
        var recordBody = record[..record.LastIndexOf((byte)'}')];
        var enrichmentBody = enrichment.IsEmpty ? [] : enrichment[(enrichment.IndexOf((byte)'{') + 1)..];
        var recordHasMembers = recordBody[1..].IndexOfAnyExcept(" \t\r\n"u8) >= 0;
        var enrichmentHasMembers = enrichmentBody.IndexOfAnyExcept(" \t\r\n}"u8) >= 0;
        var length = recordBody.Length + 1 + (enrichmentHasMembers ? enrichmentBody.Length : 1);
        if (buffer.Length < length)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            buffer = ArrayPool<byte>.Shared.Rent(length);
        }

        var span = buffer.AsSpan();
        recordBody.CopyTo(span);
        var written = recordBody.Length;
        if (!enrichmentHasMembers)
        {
            span[written++] = (byte)'}';
            return written;
        }

        if (recordHasMembers)
        {
            span[written++] = (byte)',';
        }

        enrichmentBody.CopyTo(span[written..]);
        return written + enrichmentBody.Length;
    }

    private static StageResult FindStage(ConsolidationRequest request, string stage) =>
        request.Stages.FirstOrDefault(s => s.Stage == stage)
        ?? throw new StagingException($"the consolidation request has no {stage} result");

    private static RunSummary Succeeded(ConsolidationRequest request, string dataset, LoadResult result, Stopwatch stopwatch) => new()
    {
        RunId = request.RunId,
        Dataset = dataset,
        Status = "succeeded",
        Records = result.Records,
        Rejected = result.Rejected,
        Duplicates = result.Duplicates,
        Superseded = result.Superseded,
        Seconds = stopwatch.Elapsed.TotalSeconds,
    };
}

/// <summary>The profile's <c>maxRejectRatio</c> was exceeded: the run failed, with its rejects kept as the diagnosis.</summary>
internal sealed class RejectRatioExceededException(string message) : Exception(message);
