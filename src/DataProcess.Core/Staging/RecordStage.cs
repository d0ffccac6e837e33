using System.Diagnostics;
using System.Text.Json;
using DataProcess.Core.Payloads;
using DataProcess.Core.Ports;
using DataProcess.Core.Profiles;
using DataProcess.Core.Records;

namespace DataProcess.Core.Staging;

/// <summary>What a stage does to one valid record: write its staged line, or return a reason to reject it.</summary>
internal interface IRecordTransform
{
    string? Write(long index, string id, JsonElement record, StagingWriter output);
}

/// <summary>
/// The shared body of Enrichment and Anonymization: stream the source, validate each record, hand it
/// to the stage's transform, and stream the staged lines to the stage's output object.
/// </summary>
internal static class RecordStage
{
    public static async Task<StageResult> RunAsync(
        string stage,
        StageRequest request,
        IObjectStore store,
        Func<Profile, CancellationToken, Task<IRecordTransform>> createTransform,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var stopwatch = Stopwatch.StartNew();
        var profile = await LoadProfileAsync(store, request.Profile, cancellationToken);
        var transform = await createTransform(profile, cancellationToken);
        using var disposeTransform = transform as IDisposable;
        var output = request.Staging.For(request.RunId, stage);
        long records = 0;
        long rejected = 0;
        long bytesRead = 0;

        await store.WriteAsync(
            output,
            async (stream, ct) =>
            {
                await using var source = await store.OpenReadAsync(request.Source, ct);
                await using var reader = new JsonRecordReader(source, SourceName(request.Source), profile.Records);
                await using var writer = new StagingWriter(stream);
                while (await reader.ReadAsync(ct))
                {
                    var index = reader.RecordIndex;
                    var validated = RecordValidator.ValidateDocument(reader.Record, profile);
                    string? reason;
                    using (validated.Document)
                    {
                        reason = validated.Reject ?? transform.Write(index, validated.Id!, validated.Document!.RootElement, writer);
                    }

                    if (reason is not null)
                    {
                        writer.WriteRejected(index, validated.Id, reason);
                        rejected++;
                    }

                    records++;
                    await writer.FlushIfFullAsync(ct);
                }

                await writer.FlushAsync(ct);
                bytesRead = reader.BytesRead;
            },
            cancellationToken);

        return new StageResult
        {
            RunId = request.RunId,
            Stage = stage,
            Output = output,
            Records = records,
            Rejected = rejected,
            BytesRead = bytesRead,
            Seconds = stopwatch.Elapsed.TotalSeconds,
        };
    }

    public static async Task<Profile> LoadProfileAsync(IObjectStore store, ObjectRef profile, CancellationToken cancellationToken)
    {
        await using var stream = await store.OpenReadAsync(profile, cancellationToken);
        return await ProfileLoader.LoadAsync(stream, SourceName(profile), cancellationToken);
    }

    /// <summary>The name errors use for an object: its file name, which is what a user recognises.</summary>
    public static string SourceName(ObjectRef obj)
    {
        var slash = obj.Key.LastIndexOf('/');
        return slash < 0 ? obj.Key : obj.Key[(slash + 1)..];
    }
}
