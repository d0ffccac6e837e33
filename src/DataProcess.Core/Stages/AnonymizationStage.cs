using System.Text.Json;
using DataProcess.Core.Payloads;
using DataProcess.Core.Ports;
using DataProcess.Core.Staging;
using DataProcess.Core.Transforms;

namespace DataProcess.Core.Stages;

/// <summary>Streams the source and writes each record with its personal fields anonymized.</summary>
public sealed class AnonymizationStage(IObjectStore store, IHmacKeySource keys)
{
    /// <summary>A test seam: the same output must come out of one worker with one-record batches as of many.</summary>
    internal StageParallelism Parallelism { get; init; } = StageParallelism.Default;

    public async Task<StageResult> RunAsync(StageRequest request, CancellationToken cancellationToken = default)
    {
        // One key for every worker, and its fingerprint in the result: the run's identity names the key that
        // made its pseudonyms.
        var key = await keys.GetKeyAsync(cancellationToken);
        var result = await RecordStage.RunAsync(
            ConsolidationStage.Anonymization,
            request,
            store,
            (profile, _) => Task.FromResult<IRecordTransform>(new Transform(new RecordAnonymizer(profile, key))),
            Parallelism,
            cancellationToken);
        return result with { KeyFingerprint = key.Fingerprint };
    }

    private sealed class Transform(RecordAnonymizer anonymizer) : IRecordTransform, IDisposable
    {
        public string? Write(long index, string id, JsonElement record, StagingWriter output)
        {
            var reason = anonymizer.Check(record);
            if (reason is null)
            {
                anonymizer.Write(record, output.BeginAccepted(index, id, StagedLine.RecordProperty));
                output.EndLine();
            }

            return reason;
        }

        public void Dispose() => anonymizer.Dispose();
    }
}
