using DataProcess.Core.Ports;

namespace DataProcess.Cli;

/// <summary>
/// Stops a run hosted in this process, the way a Lambda host stops a function: the handlers take no cancellation
/// token (the Lambda contract has none), so the run's token reaches them through the adapters they use. Every
/// object-store call and read, and every database round trip of the replay check and the load, then ends in an
/// <see cref="OperationCanceledException"/> once the run is cancelled.
/// </summary>
internal static class RunCancellation
{
    public static IObjectStore Store(IObjectStore store, CancellationToken run) =>
        run.CanBeCanceled ? new CancellableObjectStore(store, run) : store;

    public static IRecordSink Sink(IRecordSink sink, CancellationToken run) =>
        run.CanBeCanceled ? new CancellableRecordSink(sink, run) : sink;

    /// <summary>The caller's token when it has one (then linked with the run's), else the run's.</summary>
    private static Linked Link(CancellationToken call, CancellationToken run) =>
        call.CanBeCanceled && call != run ? new Linked(CancellationTokenSource.CreateLinkedTokenSource(call, run)) : new Linked(run);

    private readonly struct Linked : IDisposable
    {
        private readonly CancellationTokenSource? _source;

        public Linked(CancellationTokenSource source)
        {
            _source = source;
            Token = source.Token;
        }

        public Linked(CancellationToken token) => Token = token;

        public CancellationToken Token { get; }

        public void Dispose() => _source?.Dispose();
    }

    private sealed class CancellableObjectStore(IObjectStore inner, CancellationToken run) : IObjectStore
    {
        public async Task<ObjectInfo> HeadAsync(ObjectRef obj, CancellationToken cancellationToken = default)
        {
            using var token = Link(cancellationToken, run);
            return await inner.HeadAsync(obj, token.Token);
        }

        public async Task<Stream> OpenReadAsync(ObjectRef obj, CancellationToken cancellationToken = default)
        {
            using var token = Link(cancellationToken, run);
            return new CancellableReadStream(await inner.OpenReadAsync(obj, token.Token), run);
        }

        public async Task<ObjectInfo> WriteAsync(ObjectRef obj, Func<Stream, CancellationToken, Task> produce, CancellationToken cancellationToken = default)
        {
            // The producer gets the linked token too: a stage's reader and workers stop with it.
            using var token = Link(cancellationToken, run);
            return await inner.WriteAsync(obj, produce, token.Token);
        }

        public async Task MoveAsync(ObjectRef from, ObjectRef to, CancellationToken cancellationToken = default)
        {
            using var token = Link(cancellationToken, run);
            await inner.MoveAsync(from, to, token.Token);
        }

        public async Task DeleteAsync(ObjectRef obj, CancellationToken cancellationToken = default)
        {
            using var token = Link(cancellationToken, run);
            await inner.DeleteAsync(obj, token.Token);
        }
    }

    /// <summary>A read stream whose reads stop when the run is cancelled, whatever token the reader passes.</summary>
    private sealed class CancellableReadStream(Stream inner, CancellationToken run) : ForwardingReadStream(inner)
    {
        public override int Read(byte[] buffer, int offset, int count)
        {
            run.ThrowIfCancellationRequested();
            return Inner.Read(buffer, offset, count);
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            using var token = Link(cancellationToken, run);
            return await Inner.ReadAsync(buffer, token.Token);
        }
    }

    private sealed class CancellableRecordSink(IRecordSink inner, CancellationToken run) : IRecordSink
    {
        public async Task<Guid?> SkipIfLoadedAsync(RunDescriptor descriptor, CancellationToken cancellationToken = default)
        {
            using var token = Link(cancellationToken, run);
            return await inner.SkipIfLoadedAsync(descriptor, token.Token);
        }

        public async Task<LoadStart> BeginAsync(RunDescriptor descriptor, bool reprocess, CancellationToken cancellationToken = default)
        {
            using var token = Link(cancellationToken, run);
            var start = await inner.BeginAsync(descriptor, reprocess, token.Token);
            return start is LoadStart.Started started ? new LoadStart.Started(new CancellableRunLoad(started.Load, run)) : start;
        }

        public async Task RecordFailureAsync(RunDescriptor descriptor, string error, CancellationToken cancellationToken = default)
        {
            using var token = Link(cancellationToken, run);
            await inner.RecordFailureAsync(descriptor, error, token.Token);
        }
    }

    /// <summary>
    /// The rows of a load stop at the next one after the cancellation (one check per row, no token linked per row);
    /// the statements between and after the passes take the run's token, so a running one is cancelled in the server.
    /// </summary>
    private sealed class CancellableRunLoad(IRunLoad inner, CancellationToken run) : IRunLoad
    {
        public ValueTask AddKeyAsync(long recordIndex, string recordId, CancellationToken cancellationToken = default)
        {
            run.ThrowIfCancellationRequested();
            return inner.AddKeyAsync(recordIndex, recordId, cancellationToken);
        }

        public ValueTask AddRejectAsync(long recordIndex, string? recordId, string reason, CancellationToken cancellationToken = default)
        {
            run.ThrowIfCancellationRequested();
            return inner.AddRejectAsync(recordIndex, recordId, reason, cancellationToken);
        }

        public async ValueTask EndKeysAsync(CancellationToken cancellationToken = default)
        {
            using var token = Link(cancellationToken, run);
            await inner.EndKeysAsync(token.Token);
        }

        public ValueTask AddRecordAsync(long recordIndex, string recordId, ReadOnlyMemory<byte> utf8Json, CancellationToken cancellationToken = default)
        {
            run.ThrowIfCancellationRequested();
            return inner.AddRecordAsync(recordIndex, recordId, utf8Json, cancellationToken);
        }

        public async Task<LoadResult> CompleteAsync(CancellationToken cancellationToken = default)
        {
            using var token = Link(cancellationToken, run);
            return await inner.CompleteAsync(token.Token);
        }

        public async Task FailAsync(string error, CancellationToken cancellationToken = default)
        {
            using var token = Link(cancellationToken, run);
            await inner.FailAsync(error, token.Token);
        }

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
