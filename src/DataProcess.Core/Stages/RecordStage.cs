using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using System.Threading.Channels;
using DataProcess.Core.Payloads;
using DataProcess.Core.Ports;
using DataProcess.Core.Staging;
using DataProcess.Core.Profiles;
using DataProcess.Core.Records;

namespace DataProcess.Core.Stages;

/// <summary>What a stage does to one valid record: write its staged line, or return a reason to reject it.</summary>
internal interface IRecordTransform
{
    string? Write(long index, string id, JsonElement record, StagingWriter output);
}

/// <summary>
/// How a stage spreads its records over cores: <see cref="Workers"/> transforms, each taking batches of up to
/// <see cref="BatchRecords"/> records or <see cref="BatchBytes"/> bytes. The output never depends on it (the
/// differential tests hold that); only tests choose anything but <see cref="Default"/>.
/// </summary>
internal sealed record StageParallelism(int Workers, int BatchBytes, int BatchRecords)
{
    public static StageParallelism Default { get; } = new(Math.Clamp(Environment.ProcessorCount, 1, 4), RecordStage.BatchBufferBytes, 2048);
}

/// <summary>
/// The shared body of Enrichment and Anonymization: stream the source, validate each record, hand it
/// to the stage's transform, and stream the staged lines to the stage's output object.
/// </summary>
/// <remarks>
/// Reading is sequential, but the records are independent: the reader cuts them into batches, as many
/// workers as there are cores (at most four) validate and transform batches, each with its own
/// transform, and the writer puts the batches' lines out in source order. Bounded channels keep a few
/// batches in flight at most, so memory stays flat whatever the input size.
/// </remarks>
internal static class RecordStage
{
    internal const int BatchBufferBytes = 256 * 1024;

    public static async Task<StageResult> RunAsync(
        string stage,
        StageRequest request,
        IObjectStore store,
        Func<Profile, CancellationToken, Task<IRecordTransform>> createTransform,
        StageParallelism parallelism,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var stopwatch = Stopwatch.StartNew();
        var profile = await LoadProfileAsync(store, request.Profile, cancellationToken);
        var workers = parallelism.Workers;
        var transforms = new IRecordTransform[workers];
        for (var i = 0; i < workers; i++)
        {
            transforms[i] = await createTransform(profile, cancellationToken);
        }

        var output = request.Staging.For(request.RunId, stage);
        var counts = new Counts();
        try
        {
            await store.WriteAsync(
                output,
                (stream, ct) => ProcessAsync(store, request.Source, profile, transforms, parallelism, stream, counts, ct),
                cancellationToken);
        }
        finally
        {
            foreach (var transform in transforms)
            {
                (transform as IDisposable)?.Dispose();
            }
        }

        return new StageResult
        {
            RunId = request.RunId,
            Stage = stage,
            Output = output,
            Records = counts.Records,
            Rejected = counts.Rejected,
            BytesRead = counts.BytesRead,
            Seconds = stopwatch.Elapsed.TotalSeconds,
            ProfileHash = profile.Hash,
        };
    }

    public static async Task<Profile> LoadProfileAsync(IObjectStore store, ObjectRef profile, CancellationToken cancellationToken)
    {
        Stream stream;
        try
        {
            stream = await store.OpenReadAsync(profile, cancellationToken);
        }
        catch (ObjectNotFoundException) when (DatasetOfProfile(profile.Key) is { } dataset)
        {
            // The key named a dataset the stack has no profile for: say so in the ledger, not "object does not exist".
            throw new ProfileException($"unknown dataset '{dataset}': there is no profile {profile.Key} (a stack's datasets are the files of its profiles/ directory)");
        }

        await using (stream)
        {
            return await ProfileLoader.LoadAsync(stream, SourceName(profile), cancellationToken);
        }
    }

    private static string? DatasetOfProfile(string key) =>
        key.StartsWith(KeyLayout.ProfilePrefix, StringComparison.Ordinal) && key.EndsWith(".json", StringComparison.Ordinal) && key.IndexOf('/', KeyLayout.ProfilePrefix.Length) < 0
            ? key[KeyLayout.ProfilePrefix.Length..^".json".Length]
            : null;

    /// <summary>The name errors use for an object: its file name, which is what a user recognises.</summary>
    public static string SourceName(ObjectRef obj)
    {
        var slash = obj.Key.LastIndexOf('/');
        return slash < 0 ? obj.Key : obj.Key[(slash + 1)..];
    }

    private static async Task ProcessAsync(IObjectStore store, ObjectRef sourceObject, Profile profile, IRecordTransform[] transforms, StageParallelism parallelism, Stream output, Counts counts, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var work = Channel.CreateBounded<Batch>(new BoundedChannelOptions(transforms.Length * 2) { SingleWriter = true });
        var ordered = Channel.CreateBounded<Batch>(new BoundedChannelOptions(transforms.Length * 4) { SingleWriter = true, SingleReader = true });
        var tasks = transforms
            .Select(t => Task.Run(() => TransformBatchesAsync(work.Reader, t, profile, stop), CancellationToken.None))
            .Append(Task.Run(() => WriteBatchesAsync(ordered.Reader, output, counts, stop), CancellationToken.None))
            .ToArray();

        Exception? readFailure = null;
        try
        {
            await using var source = await store.OpenReadAsync(sourceObject, stop.Token);
            await using var reader = new JsonRecordReader(source, SourceName(sourceObject), profile.Records);
            var batch = Batch.Rent();
            while (await reader.ReadAsync(stop.Token))
            {
                batch.Add(reader.RecordIndex, reader.Record.Span);
                if (batch.IsFull(parallelism))
                {
                    await PostAsync(batch);
                    batch = Batch.Rent();
                }
            }

            await PostAsync(batch);
            counts.BytesRead = reader.BytesRead;
        }
        catch (Exception e)
        {
            readFailure = e;
            await stop.CancelAsync();
        }

        work.Writer.TryComplete();
        ordered.Writer.TryComplete();
        try
        {
            await Task.WhenAll(tasks);
        }
        catch (Exception)
        {
            // Inspected below: the error to report is the first one that is not a cancellation.
        }

        var taskFailure = tasks.Select(t => t.Exception?.InnerException).FirstOrDefault(e => e is not null and not OperationCanceledException);
        var error = readFailure is not null and not OperationCanceledException ? readFailure : taskFailure ?? readFailure;
        if (error is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
        }

        async ValueTask PostAsync(Batch batch)
        {
            // The writer takes batches in the order they were read; the workers finish them in any order.
            await ordered.Writer.WriteAsync(batch, stop.Token);
            await work.Writer.WriteAsync(batch, stop.Token);
        }
    }

    private static async Task TransformBatchesAsync(ChannelReader<Batch> work, IRecordTransform transform, Profile profile, CancellationTokenSource stop)
    {
        await foreach (var batch in work.ReadAllAsync(stop.Token))
        {
            try
            {
                batch.Transform(transform, profile);
                batch.Done.TrySetResult();
            }
            catch (Exception e)
            {
                batch.Done.TrySetException(e);
                await stop.CancelAsync();
                throw;
            }
        }
    }

    private static async Task WriteBatchesAsync(ChannelReader<Batch> ordered, Stream output, Counts counts, CancellationTokenSource stop)
    {
        try
        {
            await foreach (var batch in ordered.ReadAllAsync(stop.Token))
            {
                await batch.Done.Task.WaitAsync(stop.Token);
                await output.WriteAsync(batch.Lines, stop.Token);
                counts.Records += batch.Count;
                counts.Rejected += batch.Rejected;
                batch.Return();
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The reader must stop too: it would wait forever for room in the ordered channel.
            await stop.CancelAsync();
            throw;
        }
    }

    private sealed class Counts
    {
        public long Records { get; set; }

        public long Rejected { get; set; }

        public long BytesRead { get; set; }
    }

    /// <summary>A run of consecutive records: their bytes in, their staged lines out.</summary>
    private sealed class Batch
    {
        private readonly List<(long Index, int Offset, int Length)> _records = [];
        private readonly StagingWriter _lines = new();
        private byte[] _input = ArrayPool<byte>.Shared.Rent(BatchBufferBytes);
        private int _used;

        public TaskCompletionSource Done { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Count => _records.Count;

        public int Rejected { get; private set; }

        public bool IsFull(StageParallelism limits) => _used >= limits.BatchBytes || _records.Count >= limits.BatchRecords;

        public static Batch Rent() => Pool.TryTake(out var batch) ? batch : new Batch();

        public void Add(long index, ReadOnlySpan<byte> record)
        {
            if (_used + record.Length > _input.Length)
            {
                var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_input.Length * 2, _used + record.Length));
                Buffer.BlockCopy(_input, 0, bigger, 0, _used);
                ArrayPool<byte>.Shared.Return(_input);
                _input = bigger;
            }

            record.CopyTo(_input.AsSpan(_used));
            _records.Add((index, _used, record.Length));
            _used += record.Length;
        }

        public ReadOnlyMemory<byte> Lines => _lines.Written;

        public void Transform(IRecordTransform transform, Profile profile)
        {
            var writer = _lines;
            foreach (var (index, offset, length) in _records)
            {
                var validated = RecordValidator.ValidateDocument(_input.AsMemory(offset, length), profile);
                string? reason;
                using (validated.Document)
                {
                    reason = validated.Reject ?? transform.Write(index, validated.Id!, validated.Document!.RootElement, writer);
                }

                if (reason is not null)
                {
                    writer.WriteRejected(index, validated.Id, reason);
                    Rejected++;
                }
            }

        }

        public void Return()
        {
            _records.Clear();
            _lines.Clear();
            _used = 0;
            Rejected = 0;
            Done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (_input.Length > BatchBufferBytes * 4)
            {
                // One huge record grew this batch: give the big array back rather than keep it.
                ArrayPool<byte>.Shared.Return(_input);
                _input = ArrayPool<byte>.Shared.Rent(BatchBufferBytes);
            }

            Pool.Add(this);
        }

        private static readonly System.Collections.Concurrent.ConcurrentBag<Batch> Pool = [];
    }
}
