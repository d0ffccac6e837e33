using System.Text.Json;
using DataProcess.Core.Payloads;
using DataProcess.Core.Ports;
using DataProcess.Core.Staging;
using DataProcess.Core.Transforms;

namespace DataProcess.Core.Stages;

/// <summary>Streams the source and writes each record's enrichment fields (never the raw record).</summary>
public sealed class EnrichmentStage(IObjectStore store)
{
    /// <summary>A test seam: the same output must come out of one worker with one-record batches as of many.</summary>
    internal StageParallelism Parallelism { get; init; } = StageParallelism.Default;

    public Task<StageResult> RunAsync(StageRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RecordStage.RunAsync(
            ConsolidationStage.Enrichment,
            request,
            store,
            (profile, _) => Task.FromResult<IRecordTransform>(new Transform(new RecordEnricher(profile, request.StartedAt))),
            Parallelism,
            cancellationToken);
    }

    private sealed class Transform(RecordEnricher enricher) : IRecordTransform
    {
        public string? Write(long index, string id, JsonElement record, StagingWriter output)
        {
            enricher.WriteFields(record, output.BeginAccepted(index, id, StagedLine.EnrichmentProperty));
            output.EndLine();
            return null;
        }
    }
}
