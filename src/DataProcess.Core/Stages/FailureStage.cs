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
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The profile itself may be what failed the run (unknown dataset, a bad or unreadable profile); the
            // ledger row is still written, under the dataset the key names.
            profile = null;
        }

        var dataset = profile?.Dataset ?? KeyLayout.DatasetOf(failure.Source.Key) ?? "unknown";
        var run = RunDescriptor.Of(failure.RunId, dataset, failure.Source, failure.SourceETag, failure.StartedAt) with
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
    /// The ledger's error text: what went wrong, in words, never a .NET exception type. A Lambda error arrives as
    /// <c>{"errorType","errorMessage",...}</c> in Cause; only the message is kept (the type and stack trace say nothing
    /// to a data team). A service error of Step Functions or Lambda (<c>States.Timeout</c>, <c>Lambda.Unknown</c>)
    /// keeps its name, which is what AWS's documentation is searched by.
    /// </summary>
    public static string Describe(CaughtError error)
    {
        ArgumentNullException.ThrowIfNull(error);
        var service = error.Error.StartsWith("States.", StringComparison.Ordinal) || error.Error.StartsWith("Lambda.", StringComparison.Ordinal);
        var text = error.Error;
        if (!string.IsNullOrWhiteSpace(error.Cause))
        {
            var message = LambdaErrorMessage(error.Cause)
                ?? (error.Cause.StartsWith(error.Error + ": ", StringComparison.Ordinal) ? error.Cause[(error.Error.Length + 2)..] : error.Cause);
            text = service ? $"{error.Error}: {message}" : message;
        }

        return text.Length <= MaxErrorLength ? text : text[..MaxErrorLength];
    }

    private static string? LambdaErrorMessage(string cause)
    {
        try
        {
            using var document = JsonDocument.Parse(cause);
            return document.RootElement.ValueKind == JsonValueKind.Object &&
                document.RootElement.TryGetProperty("errorMessage", out var message) &&
                message.ValueKind == JsonValueKind.String
                ? message.GetString()
                : null;
        }
        catch (JsonException)
        {
            // Not a Lambda error document: the cause is the message.
            return null;
        }
    }
}
