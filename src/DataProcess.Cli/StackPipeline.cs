using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using DataProcess.Anonymization;
using DataProcess.Consolidation;
using DataProcess.Core.Payloads;
using DataProcess.Core.Ports;
using DataProcess.Enrichment;

namespace DataProcess.Cli;

/// <summary>
/// One run of the local stack, as the state machine runs it in AWS: the same handlers called with
/// the same JSON payloads on an S3 source, Enrichment and Anonymization side by side, then
/// Consolidation; on a failure, the failure path, which records the run and moves the source to
/// <c>quarantine/</c>.
/// </summary>
internal sealed class StackPipeline(IObjectStore store, IRecordSink sink, IHmacKeySource keys, ObjectRef profile)
{
    public async Task<RunSummary> RunAsync(ObjectRef source, CancellationToken cancellationToken)
    {
        var head = await store.HeadAsync(source, cancellationToken);
        var request = new StageRequest
        {
            RunId = Guid.NewGuid(),
            StartedAt = DateTimeOffset.UtcNow,
            Source = source,
            SourceETag = head.ETag,
            Profile = profile,
            Staging = new StagingLocation(StackCommand.StagingBucket, "staging"),
        };

        try
        {
            var enriching = Invoke(new EnrichmentFunction(store).HandleAsync, request, PayloadJsonContext.Default.StageRequest, PayloadJsonContext.Default.StageResult);
            var anonymizing = Invoke(new AnonymizationFunction(store, keys).HandleAsync, request, PayloadJsonContext.Default.StageRequest, PayloadJsonContext.Default.StageResult);
            await Task.WhenAll(enriching, anonymizing);
            var stages = new[] { await enriching, await anonymizing };
            var summary = await Invoke(new ConsolidationFunction(store, sink).HandleAsync, ConsolidationRequest.After(request, stages), PayloadJsonContext.Default.ConsolidationRequest, PayloadJsonContext.Default.RunSummary);
            foreach (var stage in stages)
            {
                await store.DeleteAsync(stage.Output, cancellationToken);
            }

            return summary;
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            var failed = RunFailure.Of(request, new CaughtError
            {
                Error = error.GetType().Name,
                Cause = JsonSerializer.Serialize(new Dictionary<string, string> { ["errorType"] = error.GetType().Name, ["errorMessage"] = error.Message }),
            });
            await Invoke(new RunFailureFunction(store, sink, quarantine: true).HandleAsync, failed, PayloadJsonContext.Default.RunFailure, PayloadJsonContext.Default.FailureRecorded);
            throw;
        }
    }

    private static async Task<TOut> Invoke<TIn, TOut>(Func<Stream, Task<Stream>> handler, TIn payload, JsonTypeInfo<TIn> input, JsonTypeInfo<TOut> output)
    {
        await Task.Yield();
        return await PayloadSerializer.InvokeAsync(handler, payload, input, output);
    }
}
