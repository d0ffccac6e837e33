using System.Diagnostics;
using DataProcess.Core.Payloads;
using DataProcess.Core.Ports;

namespace DataProcess.Core.Staging;

/// <summary>
/// The first step of a run: when the same version of the same source already loaded, the run is recorded
/// as skipped and ends here, before either stage reads a byte. Events arrive at least once, and a
/// replay should cost a database round trip, not a pass over the whole file. Consolidation still checks
/// again inside its transaction, so two runs started at the same moment never both load.
/// </summary>
public sealed class ReplayCheckStage(IObjectStore store, IRecordSink sink)
{
    public async Task<ReplayCheck> RunAsync(StageRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var stopwatch = Stopwatch.StartNew();
        var profile = await RecordStage.LoadProfileAsync(store, request.Profile, cancellationToken);
        var run = RunDescriptor.Of(request.RunId, profile.Dataset, request.Source, request.SourceETag, request.StartedAt);

        // Beginning a load takes the dataset's lock and records a skipped run when the source already
        // loaded; otherwise the load is rolled back untouched, and the stages go ahead.
        var load = await sink.BeginAsync(run, cancellationToken);
        if (load is not null)
        {
            await load.DisposeAsync();
            return new ReplayCheck { AlreadyLoaded = false };
        }

        return new ReplayCheck { AlreadyLoaded = true, Summary = RunSummary.Skipped(request.RunId, profile.Dataset, stopwatch.Elapsed.TotalSeconds) };
    }
}
