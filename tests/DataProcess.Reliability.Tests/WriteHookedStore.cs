using DataProcess.Core.Ports;

namespace DataProcess.Reliability.Tests;

/// <summary>
/// An object store whose writes call <paramref name="beforeWrite"/> (the object, the bytes about to be written)
/// before each chunk reaches the inner store: a fault (a full disk) or a stop (a cancellation) at an exact byte.
/// </summary>
internal sealed class WriteHookedStore(IObjectStore inner, Action<ObjectRef, int> beforeWrite) : IObjectStore
{
    public Task<ObjectInfo> HeadAsync(ObjectRef obj, CancellationToken cancellationToken = default) => inner.HeadAsync(obj, cancellationToken);

    public Task<Stream> OpenReadAsync(ObjectRef obj, CancellationToken cancellationToken = default) => inner.OpenReadAsync(obj, cancellationToken);

    public Task<ObjectInfo> WriteAsync(ObjectRef obj, Func<Stream, CancellationToken, Task> produce, CancellationToken cancellationToken = default) =>
        inner.WriteAsync(obj, (stream, ct) => produce(new HookedStream(stream, count => beforeWrite(obj, count)), ct), cancellationToken);

    public Task MoveAsync(ObjectRef from, ObjectRef to, CancellationToken cancellationToken = default) => inner.MoveAsync(from, to, cancellationToken);

    public Task DeleteAsync(ObjectRef obj, CancellationToken cancellationToken = default) => inner.DeleteAsync(obj, cancellationToken);

    private sealed class HookedStream(Stream inner, Action<int> beforeWrite) : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => inner.Length;

        public override long Position
        {
            get => inner.Position;
            set => throw new NotSupportedException();
        }

        public override void Write(byte[] buffer, int offset, int count)
        {
            beforeWrite(count);
            inner.Write(buffer, offset, count);
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            beforeWrite(buffer.Length);
            await inner.WriteAsync(buffer, cancellationToken);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush() => inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
