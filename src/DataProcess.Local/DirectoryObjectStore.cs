using System.Security.Cryptography;
using DataProcess.Core.Ports;

namespace DataProcess.Local;

/// <summary>
/// The local object store: each bucket is a directory. Writes go to a temporary file that is renamed
/// into place, so an object exists whole or not at all. The etag is the MD5 of the content, as S3's
/// is for a single-part upload.
/// </summary>
public sealed class DirectoryObjectStore : IObjectStore
{
    private const int BufferSize = 1024 * 1024;

    private readonly string _root;
    private readonly Dictionary<string, string> _buckets = new(StringComparer.Ordinal);

    /// <param name="root">Buckets not mapped explicitly are directories under this one.</param>
    public DirectoryObjectStore(string root)
    {
        _root = Path.GetFullPath(root);
    }

    /// <summary>Serves <paramref name="bucket"/> from <paramref name="directory"/> (for example, where the input file lies).</summary>
    public DirectoryObjectStore MapBucket(string bucket, string directory)
    {
        _buckets[bucket] = Path.GetFullPath(directory);
        return this;
    }

    public async Task<ObjectInfo> HeadAsync(ObjectRef obj, CancellationToken cancellationToken = default)
    {
        var path = Locate(obj);
        await using var stream = OpenExisting(obj, path);
        var hash = await MD5.HashDataAsync(stream, cancellationToken);
        return new ObjectInfo(obj, stream.Length, Convert.ToHexStringLower(hash));
    }

    public Task<Stream> OpenReadAsync(ObjectRef obj, CancellationToken cancellationToken = default) =>
        Task.FromResult<Stream>(OpenExisting(obj, Locate(obj)));

    public async Task<ObjectInfo> WriteAsync(ObjectRef obj, Func<Stream, CancellationToken, Task> produce, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(produce);
        var path = Locate(obj);
        var temporary = $"{path}.{Guid.NewGuid():N}.partial";
        try
        {
            long size;
            byte[] hash;
            await using (var file = CreateTemporary(temporary))
            using (var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5))
            {
                await using var hashing = new HashingWriteStream(file, md5);
                await produce(hashing, cancellationToken);
                await hashing.FlushAsync(cancellationToken);
                size = file.Length;
                hash = md5.GetHashAndReset();
            }

            File.Move(temporary, path, overwrite: true);
            return new ObjectInfo(obj, size, Convert.ToHexStringLower(hash));
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }

    public Task MoveAsync(ObjectRef from, ObjectRef to, CancellationToken cancellationToken = default)
    {
        var source = Locate(from);
        if (!File.Exists(source))
        {
            throw new ObjectNotFoundException(from);
        }

        var target = Locate(to);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        File.Move(source, target, overwrite: true);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Deletes the object, and then the directories it leaves empty: as in S3, a prefix exists only while it holds an
    /// object. Not in a bucket mapped to a directory of its own (<see cref="MapBucket"/>): that is someone else's.
    /// </summary>
    public Task DeleteAsync(ObjectRef obj, CancellationToken cancellationToken = default)
    {
        var path = Locate(obj);
        File.Delete(path);
        if (_buckets.ContainsKey(obj.Bucket))
        {
            return Task.CompletedTask;
        }

        var bucket = BucketDirectory(obj.Bucket);
        for (var directory = Path.GetDirectoryName(path); directory is not null && directory.Length > bucket.Length; directory = Path.GetDirectoryName(directory))
        {
            try
            {
                Directory.Delete(directory); // only when empty
            }
            catch (IOException)
            {
                break; // not empty (another object, or a writer that just created it), or already gone
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// The temporary file of a write, in a directory created on the way. A concurrent <see cref="DeleteAsync"/> may
    /// remove an empty directory between its creation and the file's: then it is created again.
    /// </summary>
    private static FileStream CreateTemporary(string temporary)
    {
        for (var attempt = 0; ; attempt++)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(temporary)!);
            try
            {
                return new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, BufferSize, FileOptions.Asynchronous);
            }
            catch (DirectoryNotFoundException) when (attempt < 3)
            {
            }
        }
    }

    /// <summary>Maps a key to a path, refusing keys that would leave the bucket's directory.</summary>
    private string Locate(ObjectRef obj)
    {
        ArgumentNullException.ThrowIfNull(obj);
        if (obj.Bucket.Length == 0 || obj.Bucket.Contains('/', StringComparison.Ordinal) || obj.Bucket is "." or "..")
        {
            throw new ArgumentException($"'{obj.Bucket}' is not a bucket name", nameof(obj));
        }

        var directory = BucketDirectory(obj.Bucket);
        var path = Path.GetFullPath(Path.Combine(directory, obj.Key));
        if (obj.Key.Length == 0 || !path.StartsWith(Path.EndsInDirectorySeparator(directory) ? directory : directory + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{obj.Key}' is not a key inside bucket {obj.Bucket}", nameof(obj));
        }

        return path;
    }

    private string BucketDirectory(string bucket) => _buckets.TryGetValue(bucket, out var mapped) ? mapped : Path.Combine(_root, bucket);

    private static FileStream OpenExisting(ObjectRef obj, string path)
    {
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, FileOptions.Asynchronous | FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ObjectNotFoundException(obj);
        }
    }

    /// <summary>Hashes what passes through, so the etag costs no second read.</summary>
    private sealed class HashingWriteStream(Stream inner, IncrementalHash hash) : Stream
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

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            hash.AppendData(buffer);
            inner.Write(buffer);
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            hash.AppendData(buffer.Span);
            return inner.WriteAsync(buffer, cancellationToken);
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
