using DataProcess.Core.Payloads;
using DataProcess.Core.Ports;

namespace DataProcess.Cli;

/// <summary>
/// One run of the local stack, as the state machine runs it in AWS (<see cref="Workflow"/>), on an S3
/// source; on a failure the failure path records the run and moves the source to <c>quarantine/</c>. A run the
/// stack's stop cancels is recorded as failed ("cancelled") and its source stays under <c>incoming/</c>. The profile is
/// the one the key names (<see cref="KeyLayout.ProfileKeyOf"/>, as DescribeRun derives it); a dataset without one fails
/// the run ("unknown dataset") and quarantines the source.
/// </summary>
internal sealed class StackPipeline(IObjectStore store, IRecordSink sink, IHmacKeySource keys, string profileBucket)
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
            Profile = new ObjectRef(profileBucket, KeyLayout.ProfileKeyOf(source.Key)),
            Staging = new StagingLocation(StackCommand.StagingBucket, "staging"),
        };

        try
        {
            return await Workflow.RunAsync(WorkflowFunctions.Create(store, sink, keys, quarantine: true, cancellationToken), request, cancellationToken);
        }
        finally
        {
            // Loaded, failed or cancelled, the stage outputs are of no further use (in AWS the bucket's lifecycle
            // rule expires them).
            await Workflow.DeleteStagingAsync(store, request);
        }
    }
}
