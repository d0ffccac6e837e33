using DataProcess.Core.Payloads;
using DataProcess.Core.Ports;

namespace DataProcess.Cli;

/// <summary>
/// One run of the local stack, as the state machine runs it in AWS (<see cref="Workflow"/>), on an S3
/// source; on a failure the failure path records the run and moves the source to <c>quarantine/</c>.
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

        var summary = await Workflow.RunAsync(WorkflowFunctions.Create(store, sink, keys, quarantine: true), request);
        await Workflow.DeleteStagingAsync(store, request);
        return summary;
    }
}
