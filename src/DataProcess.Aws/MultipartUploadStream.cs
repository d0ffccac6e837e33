using Amazon.S3;
using Amazon.S3.Model;
using DataProcess.Core.Ports;

namespace DataProcess.Aws;

/// <summary>
/// A write-only stream onto one S3 object. It holds one part in memory: when the buffer fills, the
/// part is uploaded (the multipart upload is created with the first full part) and the buffer is
/// reused. <see cref="CompleteAsync"/> uploads the last part and completes the upload, or — when the
/// whole object fitted in one buffer — writes it with a single PutObject. <see cref="AbortAsync"/>
/// aborts a started upload so that S3 keeps no part of it. Writes are asynchronous only.
/// </summary>
internal sealed class MultipartUploadStream : Stream
{
    private readonly IAmazonS3 _s3;
    private readonly ObjectRef _object;
    private readonly S3ObjectStoreOptions _options;
    private readonly byte[] _buffer;
    private readonly List<PartETag> _parts = [];
    private int _filled;
    private long _written;
    private string? _uploadId;
    private bool _finished;

    public MultipartUploadStream(IAmazonS3 s3, ObjectRef obj, S3ObjectStoreOptions options)
    {
        _s3 = s3;
        _object = obj;
        _options = options;
        _buffer = new byte[options.PartSize];
    }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => !_finished;

    public override long Length => _written;

    public override long Position
    {
        get => _written;
        set => throw new NotSupportedException();
    }

    private bool ChecksumParts => !_options.DisableChunkEncoding;

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_finished, this);
        while (!buffer.IsEmpty)
        {
            if (_filled == _buffer.Length)
            {
                await UploadBufferAsync(cancellationToken);
            }

            var count = Math.Min(buffer.Length, _buffer.Length - _filled);
            buffer.Span[..count].CopyTo(_buffer.AsSpan(_filled));
            _filled += count;
            _written += count;
            buffer = buffer[count..];
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) =>
        throw new NotSupportedException("the S3 upload stream is written asynchronously only (WriteAsync)");

    /// <summary>Nothing to flush: a part is sent when it is full, the rest by <see cref="CompleteAsync"/>.</summary>
    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    /// <summary>Makes the object visible: the last part and CompleteMultipartUpload, or one PutObject.</summary>
    public async Task<ObjectInfo> CompleteAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_finished, this);
        string etag;
        if (_uploadId is null)
        {
            var put = new PutObjectRequest
            {
                BucketName = _object.Bucket,
                Key = _object.Key,
                InputStream = new MemoryStream(_buffer, 0, _filled, writable: false),
                AutoCloseStream = true,
                UseChunkEncoding = !_options.DisableChunkEncoding,
            };
            etag = (await _s3.PutObjectAsync(put, cancellationToken)).ETag;
        }
        else
        {
            if (_filled > 0)
            {
                await UploadBufferAsync(cancellationToken);
            }

            var complete = new CompleteMultipartUploadRequest
            {
                BucketName = _object.Bucket,
                Key = _object.Key,
                UploadId = _uploadId,
                PartETags = [.. _parts],
            };
            etag = (await _s3.CompleteMultipartUploadAsync(complete, cancellationToken)).ETag;
        }

        _finished = true;
        return new ObjectInfo(_object, _written, S3ObjectStore.Unquote(etag));
    }

    /// <summary>Aborts a started multipart upload (S3 then discards its parts). Never throws.</summary>
    public async Task AbortAsync()
    {
        _finished = true;
        if (_uploadId is null)
        {
            return;
        }

        try
        {
            // Not the caller's token: the abort must happen even when the run was cancelled.
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await _s3.AbortMultipartUploadAsync(
                new AbortMultipartUploadRequest { BucketName = _object.Bucket, Key = _object.Key, UploadId = _uploadId }, timeout.Token);
        }
        catch (Exception e) when (e is AmazonS3Exception or OperationCanceledException or HttpRequestException)
        {
            // The bucket's lifecycle rule aborts incomplete multipart uploads after a day.
        }
    }

    private async Task UploadBufferAsync(CancellationToken cancellationToken)
    {
        if (_uploadId is null)
        {
            var create = new InitiateMultipartUploadRequest { BucketName = _object.Bucket, Key = _object.Key };
            if (ChecksumParts)
            {
                create.ChecksumAlgorithm = ChecksumAlgorithm.CRC32;
            }

            _uploadId = (await _s3.InitiateMultipartUploadAsync(create, cancellationToken)).UploadId;
        }

        var partNumber = _parts.Count + 1;
        var request = new UploadPartRequest
        {
            BucketName = _object.Bucket,
            Key = _object.Key,
            UploadId = _uploadId,
            PartNumber = partNumber,
            PartSize = _filled,
            InputStream = new MemoryStream(_buffer, 0, _filled, writable: false),
            UseChunkEncoding = !_options.DisableChunkEncoding,
        };
        if (ChecksumParts)
        {
            request.ChecksumAlgorithm = ChecksumAlgorithm.CRC32;
        }

        var response = await _s3.UploadPartAsync(request, cancellationToken);
        _parts.Add(new PartETag(partNumber, response.ETag) { ChecksumCRC32 = response.ChecksumCRC32 });
        _filled = 0;
    }
}
