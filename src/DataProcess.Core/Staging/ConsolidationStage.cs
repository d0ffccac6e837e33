using System.Buffers;
using System.Diagnostics;
using DataProcess.Core.Payloads;
using DataProcess.Core.Ports;

namespace DataProcess.Core.Staging;

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
        var run = RunDescriptor.Of(request.RunId, profile.Dataset, request.Source, request.SourceETag, request.StartedAt);

        var load = await sink.BeginAsync(run, cancellationToken);
        if (load is null)
        {
            return RunSummary.Skipped(request.RunId, profile.Dataset, stopwatch.Elapsed.TotalSeconds);
        }

        await using (load)
        {
            double keysSeconds = 0;
            StagingException? keysFailure = null;
            if (load is IKeyedRunLoad keyed)
            {
                var keysStarted = Stopwatch.GetTimestamp();
                keysFailure = await AddKeysAsync(keyed, anonymization, cancellationToken);
                keysSeconds = Stopwatch.GetElapsedTime(keysStarted).TotalSeconds;
            }

            await using var anonymized = new StagingReader(await store.OpenReadAsync(anonymization.Output, cancellationToken), RecordStage.SourceName(anonymization.Output));
            await using var enriched = new StagingReader(await store.OpenReadAsync(enrichment.Output, cancellationToken), RecordStage.SourceName(enrichment.Output));
            var merged = ArrayPool<byte>.Shared.Rent(64 * 1024);
            var loopStarted = Stopwatch.GetTimestamp();
            long copyTicks = 0;
            double loopSeconds;
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
                    if (keysFailure is not null)
                    {
                        // The first pass found the outputs broken: this pass only finds where, to report it as a
                        // single pass would (the enrichment output may break first).
                    }
                    else if (anonymized.Reject is { } reason)
                    {
                        var copyStarted = Stopwatch.GetTimestamp();
                        await load.AddRejectAsync(anonymized.Index, anonymized.Id, reason, cancellationToken);
                        copyTicks += Stopwatch.GetTimestamp() - copyStarted;
                    }
                    else
                    {
                        var length = Merge(anonymized.Payload.Span, enriched.Payload.Span, ref merged);
                        var copyStarted = Stopwatch.GetTimestamp();
                        await load.AddRecordAsync(anonymized.Index, anonymized.Id!, merged.AsMemory(0, length), cancellationToken);
                        copyTicks += Stopwatch.GetTimestamp() - copyStarted;
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

                loopSeconds = Stopwatch.GetElapsedTime(loopStarted).TotalSeconds;
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(merged);
            }

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

            var copySeconds = (double)copyTicks / Stopwatch.Frequency;
            var sinkTimings = load as IRunLoadTimings;
            var timings = new RunTimings
            {
                Enrichment = enrichment.Seconds,
                Keys = keysSeconds,
                Anonymization = anonymization.Seconds,
                ReadMerge = loopSeconds - copySeconds,
                Copy = copySeconds + (sinkTimings?.CopyCompleteSeconds ?? 0),
                Upsert = sinkTimings?.UpsertSeconds ?? 0,
                Commit = sinkTimings?.CommitSeconds ?? 0,
            };
            return Succeeded(request, profile.Dataset, result, stopwatch) with { Timings = timings };
        }
    }

    /// <summary>
    /// The first pass for a sink that takes the keys first: every record's id and every reject, from the
    /// anonymization output (the one whose records load). The second pass checks both outputs in step.
    /// </summary>
    /// <returns>Null, or why the anonymization output cannot load; the second pass then reports the first problem of either output.</returns>
    private async Task<StagingException?> AddKeysAsync(IKeyedRunLoad load, StageResult anonymization, CancellationToken cancellationToken)
    {
        await using var anonymized = new StagingKeyReader(await store.OpenReadAsync(anonymization.Output, cancellationToken), RecordStage.SourceName(anonymization.Output));
        long count = 0;
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
                return e;
            }

            if (anonymized.Index != count || (anonymized.Reject is null && anonymized.Id is null))
            {
                return new StagingException($"the stage outputs are out of step at record {count}: anonymization has record {anonymized.Index}");
            }

            if (anonymized.Reject is { } reason)
            {
                await load.AddRejectAsync(anonymized.Index, anonymized.Id, reason, cancellationToken);
            }
            else
            {
                await load.AddKeyAsync(anonymized.Index, anonymized.Id!, cancellationToken);
            }

            count++;
        }

        await load.EndKeysAsync(cancellationToken);
        return null;
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
        Seconds = stopwatch.Elapsed.TotalSeconds,
    };
}
