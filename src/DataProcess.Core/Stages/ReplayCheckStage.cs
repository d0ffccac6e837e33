using System.Diagnostics;
using DataProcess.Core.Payloads;
using DataProcess.Core.Ports;

namespace DataProcess.Core.Stages;

/// <summary>
/// The first step of a run: when the same source version already loaded with the same profile and the same key
/// (the run's identity), the run is recorded as skipped and ends here, before either stage reads a byte. Events
/// arrive at least once, and a replay should cost a database round trip, not a pass over the whole file.
/// Consolidation still checks again inside its transaction, so two runs started at the same moment never both load.
/// </summary>
public sealed class ReplayCheckStage(IObjectStore store, IRecordSink sink, IHmacKeySource keys)
{
    public async Task<ReplayCheck> RunAsync(StageRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var stopwatch = Stopwatch.StartNew();
        var profile = await RecordStage.LoadProfileAsync(store, request.Profile, cancellationToken);
        if (request.Reprocess)
        {
            return new ReplayCheck { AlreadyLoaded = false };
        }

        var key = await keys.GetKeyAsync(cancellationToken);
        var run = RunDescriptor.Of(request.RunId, profile.Dataset, request.Source, request.SourceETag, request.StartedAt) with
        {
            ProfileHash = profile.Hash,
            KeyFingerprint = key.Fingerprint,
        };

        return await sink.SkipIfLoadedAsync(run, cancellationToken) is { } matched
            ? new ReplayCheck { AlreadyLoaded = true, Summary = RunSummary.Skipped(request.RunId, profile.Dataset, matched, stopwatch.Elapsed.TotalSeconds) }
            : new ReplayCheck { AlreadyLoaded = false };
    }
}
