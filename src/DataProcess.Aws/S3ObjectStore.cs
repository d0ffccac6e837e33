using System.Net;
using Amazon.S3;
using Amazon.S3.Model;
using DataProcess.Core.Ports;

namespace DataProcess.Aws;

/// <summary>Tuning of <see cref="S3ObjectStore"/>.</summary>
public sealed record S3ObjectStoreOptions
{
    /// <summary>S3's smallest part size (except the last part).</summary>
    public const int MinimumPartSize = 5 * 1024 * 1024;

    /// <summary>
    /// Bytes buffered per multipart part: the writer's memory bound. 8 MiB parts allow objects up to
    /// 80 GB (10,000 parts). Objects smaller than one part are written with a single PutObject.
    /// </summary>
    public int PartSize { get; init; } = 8 * 1024 * 1024;

    /// <summary>Send payloads without aws-chunked encoding (local servers such as s3rver store the chunk framing otherwise).</summary>
    public bool DisableChunkEncoding { get; init; }

    internal void Validate()
    {
        if (PartSize < MinimumPartSize)
        {
            throw new ArgumentOutOfRangeException(nameof(PartSize), PartSize, $"the part size must be at least {MinimumPartSize} bytes (5 MiB), S3's minimum");
        }
    }
}

/// <summary>
/// The object-store port on S3. Reads stream the GetObject response; writes are multipart uploads
/// that buffer one part at a time (bounded memory whatever the object size) and are completed only
/// when the producer finished — on any exception the upload is aborted, so no object or part is
/// left behind. Moves are CopyObject + DeleteObject: a single CopyObject handles objects up to 5 GB,
/// S3's limit for one copy; bigger sources would need UploadPartCopy, which this store does not do.
/// </summary>
public sealed class S3ObjectStore : IObjectStore
{
    private readonly IAmazonS3 _s3;
    private readonly S3ObjectStoreOptions _options;

    public S3ObjectStore(IAmazonS3 s3, S3ObjectStoreOptions? options = null)
    {
        _s3 = s3 ?? throw new ArgumentNullException(nameof(s3));
        _options = options ?? new S3ObjectStoreOptions();
        _options.Validate();
    }

    public async Task<ObjectInfo> HeadAsync(ObjectRef obj, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(obj);
        try
        {
            var head = await _s3.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = obj.Bucket, Key = obj.Key }, cancellationToken);
            return new ObjectInfo(obj, head.ContentLength, Unquote(head.ETag));
        }
        catch (AmazonS3Exception e) when (IsNotFound(e))
        {
            throw new ObjectNotFoundException(obj);
        }
        catch (AmazonS3Exception e) when (IsAccessDenied(e))
        {
            throw new S3AccessDeniedException(obj, "read its metadata (HeadObject)", e);
        }
    }

    public async Task<Stream> OpenReadAsync(ObjectRef obj, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(obj);
        try
        {
            var response = await _s3.GetObjectAsync(new GetObjectRequest { BucketName = obj.Bucket, Key = obj.Key }, cancellationToken);
            return new ResponseStream(response);
        }
        catch (AmazonS3Exception e) when (IsNotFound(e))
        {
            throw new ObjectNotFoundException(obj);
        }
        catch (AmazonS3Exception e) when (IsAccessDenied(e))
        {
            throw new S3AccessDeniedException(obj, "read it (GetObject)", e);
        }
    }

    public async Task<ObjectInfo> WriteAsync(ObjectRef obj, Func<Stream, CancellationToken, Task> produce, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(obj);
        ArgumentNullException.ThrowIfNull(produce);
        await using var upload = new MultipartUploadStream(_s3, obj, _options);
        try
        {
            await produce(upload, cancellationToken);
            return await upload.CompleteAsync(cancellationToken);
        }
        catch
        {
            await upload.AbortAsync();
            throw;
        }
    }

    public async Task MoveAsync(ObjectRef from, ObjectRef to, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(to);
        try
        {
            await _s3.CopyObjectAsync(
                new CopyObjectRequest { SourceBucket = from.Bucket, SourceKey = from.Key, DestinationBucket = to.Bucket, DestinationKey = to.Key },
                cancellationToken);
        }
        catch (AmazonS3Exception e) when (IsNotFound(e))
        {
            throw new ObjectNotFoundException(from);
        }
        catch (AmazonS3Exception e) when (IsAccessDenied(e))
        {
            throw new S3AccessDeniedException(from, $"copy it to s3://{to.Bucket}/{to.Key} (CopyObject: s3:GetObject on the source, s3:PutObject on the target)", e);
        }

        await DeleteAsync(from, cancellationToken);
    }

    public async Task DeleteAsync(ObjectRef obj, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(obj);
        await _s3.DeleteObjectAsync(new DeleteObjectRequest { BucketName = obj.Bucket, Key = obj.Key }, cancellationToken);
    }

    internal static string Unquote(string? etag) => (etag ?? string.Empty).Trim('"');

    internal static bool IsNotFound(AmazonS3Exception e) =>
        e.StatusCode == HttpStatusCode.NotFound || e.ErrorCode is "NoSuchKey" or "NotFound" or "NoSuchBucket";

    internal static bool IsAccessDenied(AmazonS3Exception e) =>
        e.StatusCode == HttpStatusCode.Forbidden || e.ErrorCode is "AccessDenied";

    /// <summary>The GetObject body; disposing it releases the response (and its connection).</summary>
    private sealed class ResponseStream(GetObjectResponse response) : Stream
    {
        private readonly Stream _inner = response.ResponseStream;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => response.ContentLength;

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, count);

        public override int Read(Span<byte> buffer) => _inner.Read(buffer);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => _inner.ReadAsync(buffer, cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            _inner.ReadAsync(buffer, offset, count, cancellationToken);

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override async ValueTask DisposeAsync()
        {
            await _inner.DisposeAsync();
            response.Dispose();
            await base.DisposeAsync();
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _inner.Dispose();
                response.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
