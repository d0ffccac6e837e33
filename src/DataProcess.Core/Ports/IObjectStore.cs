namespace DataProcess.Core.Ports;

/// <summary>An object in a bucket: the only way payloads refer to data.</summary>
public sealed record ObjectRef(string Bucket, string Key)
{
    public override string ToString() => $"{Bucket}/{Key}";
}

/// <summary>What the store knows about an object without reading it.</summary>
public sealed record ObjectInfo(ObjectRef Object, long Size, string ETag);

/// <summary>Raised when an object the pipeline needs is not in the store.</summary>
public sealed class ObjectNotFoundException : Exception
{
    public ObjectNotFoundException(ObjectRef obj)
        : base($"object {obj} does not exist") => Object = obj;

    public ObjectRef Object { get; }
}

/// <summary>
/// The object-store port. The local adapter is a directory; in AWS it is S3. Reads stream; writes
/// are all-or-nothing: an object appears only when the producer finished without throwing.
/// </summary>
public interface IObjectStore
{
    Task<ObjectInfo> HeadAsync(ObjectRef obj, CancellationToken cancellationToken = default);

    Task<Stream> OpenReadAsync(ObjectRef obj, CancellationToken cancellationToken = default);

    /// <summary>Streams <paramref name="produce"/>'s output into <paramref name="obj"/>.</summary>
    Task<ObjectInfo> WriteAsync(ObjectRef obj, Func<Stream, CancellationToken, Task> produce, CancellationToken cancellationToken = default);

    Task MoveAsync(ObjectRef from, ObjectRef to, CancellationToken cancellationToken = default);

    Task DeleteAsync(ObjectRef obj, CancellationToken cancellationToken = default);
}
