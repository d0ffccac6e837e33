using System.Text.Json;
using DataProcess.Core.Payloads;
using DataProcess.Core.Ports;
using DataProcess.Core.Profiles;

namespace DataProcess.Core.Stages;

/// <summary>
/// The failure path of a run: records it as failed in the ledger and, where the deployment asks for
/// it, moves the source object under <c>quarantine/</c> so it is not picked up again.
/// </summary>
public sealed class FailureStage(IObjectStore store, IRecordSink sink, bool quarantine)
{
    /// <summary>Longest error text kept in the ledger.</summary>
    private const int MaxErrorLength = 2000;

    public async Task<FailureRecorded> RunAsync(RunFailure failure, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(failure);
        Profile? profile;
        try
        {
            profile = await RecordStage.LoadProfileAsync(store, failure.Profile, cancellationToken);
        }
        catch (Exception e) when (e is ProfileException or ObjectNotFoundException)
        {
            // The profile itself may be what failed the run; the ledger row is still written.
            profile = null;
        }

        var run = RunDescriptor.Of(failure.RunId, profile?.Dataset ?? "unknown", failure.Source, failure.SourceETag, failure.StartedAt) with
        {
            ProfileHash = profile?.Hash,
        };
        await sink.RecordFailureAsync(run, Describe(failure.Error), cancellationToken);

        ObjectRef? quarantined = null;
        if (quarantine && !failure.Source.Key.StartsWith(KeyLayout.QuarantinePrefix, StringComparison.Ordinal))
        {
            var key = failure.Source.Key.StartsWith(KeyLayout.IncomingPrefix, StringComparison.Ordinal) ? failure.Source.Key[KeyLayout.IncomingPrefix.Length..] : failure.Source.Key;
            quarantined = failure.Source with { Key = KeyLayout.QuarantinePrefix + key };
            try
            {
                await store.MoveAsync(failure.Source, quarantined, cancellationToken);
            }
            catch (ObjectNotFoundException)
            {
                // Already moved by an earlier attempt of this failure path.
                quarantined = null;
            }
        }

        return new FailureRecorded { RunId = failure.RunId, Status = "failed", QuarantinedAs = quarantined };
    }

    /// <summary>
    /// The ledger's error text. A Lambda error arrives as <c>{"errorType","errorMessage",...}</c> in
    /// Cause; only type and message are kept (the stack trace says nothing to a data team).
    /// </summary>
    public static string Describe(CaughtError error)
    {
        ArgumentNullException.ThrowIfNull(error);
        var text = error.Error;
        if (!string.IsNullOrWhiteSpace(error.Cause))
        {
            // Some engines pass the cause as "Type: message" already.
            text = error.Cause.StartsWith(error.Error + ":", StringComparison.Ordinal) ? error.Cause : $"{error.Error}: {error.Cause}";
            try
            {
                using var cause = JsonDocument.Parse(error.Cause);
                if (cause.RootElement.ValueKind == JsonValueKind.Object &&
                    cause.RootElement.TryGetProperty("errorMessage", out var message) &&
                    message.ValueKind == JsonValueKind.String)
                {
                    text = $"{error.Error}: {message.GetString()}";
                }
            }
            catch (JsonException)
            {
                // Not a Lambda error document: keep the cause as it is.
            }
        }

        return text.Length <= MaxErrorLength ? text : text[..MaxErrorLength];
    }
}
