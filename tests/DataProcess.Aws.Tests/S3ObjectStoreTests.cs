using System.Security.Cryptography;
using System.Text;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using DataProcess.Local;
using DataProcess.Core.Ports;

namespace DataProcess.Aws.Tests;

public sealed class S3ObjectStoreTests(LocalS3Fixture s3) : IClassFixture<LocalS3Fixture>
{
    private const int MiB = 1024 * 1024;

    private static ObjectRef NewObject(string name = "object.ndjson") => new(LocalS3Fixture.Bucket, $"tests/{Guid.NewGuid():N}/{name}");

    [Fact]
    public async Task A_100_MB_object_round_trips_through_a_multipart_upload_with_the_same_checksum()
    {
        var store = s3.Store();
        var obj = NewObject("large.ndjson");
        const long size = 100L * 1000 * 1000;
        using var written = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var info = await store.WriteAsync(obj, async (stream, ct) =>
        {
            var chunk = new byte[64 * 1024];
            var random = new Random(42);
            for (long left = size; left > 0; left -= chunk.Length)
            {
                random.NextBytes(chunk);
                var count = (int)Math.Min(chunk.Length, left);
                written.AppendData(chunk, 0, count);
                await stream.WriteAsync(chunk.AsMemory(0, count), ct);
            }
        });
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;

        info.Size.Should().Be(size);
        info.ETag.Should().NotContain("\"");
        (await store.HeadAsync(obj)).Size.Should().Be(size);
        allocated.Should().BeLessThan(size / 2, "the writer buffers one 5 MiB part at a time, never the object");

        using var read = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using (var stream = await store.OpenReadAsync(obj))
        {
            var buffer = new byte[256 * 1024];
            long total = 0;
            int n;
            while ((n = await stream.ReadAsync(buffer)) > 0)
            {
                read.AppendData(buffer, 0, n);
                total += n;
            }

            total.Should().Be(size);
        }

        Convert.ToHexString(read.GetHashAndReset()).Should().Be(Convert.ToHexString(written.GetHashAndReset()));
    }

    [Fact]
    public async Task An_object_smaller_than_a_part_is_written_with_one_put_and_its_etag_is_the_md5()
    {
        var client = new RecordingS3Client(s3.Server.Connection);
        var store = s3.Store(client: client);
        var obj = NewObject();
        var content = Encoding.UTF8.GetBytes("{\"id\":1}\n{\"id\":2}\n");

        var info = await store.WriteAsync(obj, (stream, ct) => stream.WriteAsync(content, ct).AsTask());

        client.Calls.Should().Equal("PutObject");
        info.ETag.Should().Be(Convert.ToHexStringLower(MD5.HashData(content)));
        var head = await store.HeadAsync(obj);
        head.Should().Be(new ObjectInfo(obj, content.Length, info.ETag));
        await using var stream = await store.OpenReadAsync(obj);
        using var reader = new StreamReader(stream);
        (await reader.ReadToEndAsync()).Should().Be("{\"id\":1}\n{\"id\":2}\n");
    }

    [Fact]
    public async Task A_producer_that_fails_midway_aborts_the_multipart_upload_and_leaves_no_object()
    {
        var client = new RecordingS3Client(s3.Server.Connection);
        var store = s3.Store(client: client);
        var obj = NewObject();

        var write = () => store.WriteAsync(obj, async (stream, ct) =>
        {
            await stream.WriteAsync(new byte[12 * MiB], ct); // two full parts uploaded
            throw new InvalidDataException("record 7 is not JSON");
        });

        await write.Should().ThrowAsync<InvalidDataException>();
        client.Calls.Should().Equal("InitiateMultipartUpload", "UploadPart", "UploadPart", "AbortMultipartUpload");
        client.Calls.Should().NotContain("CompleteMultipartUpload");
        await store.Invoking(s => s.HeadAsync(obj)).Should().ThrowAsync<ObjectNotFoundException>();
    }

    [Fact]
    public async Task A_missing_object_is_reported_as_not_found_by_head_read_and_move()
    {
        var store = s3.Store();
        var missing = NewObject("missing.json");

        (await store.Invoking(s => s.HeadAsync(missing)).Should().ThrowAsync<ObjectNotFoundException>()).Which.Object.Should().Be(missing);
        await store.Invoking(s => s.OpenReadAsync(missing)).Should().ThrowAsync<ObjectNotFoundException>();
        await store.Invoking(s => s.MoveAsync(missing, NewObject())).Should().ThrowAsync<ObjectNotFoundException>();
    }

    [Fact]
    public async Task Moving_an_object_copies_it_and_deletes_the_source()
    {
        var store = s3.Store();
        var from = NewObject("source.json");
        var to = new ObjectRef(LocalS3Fixture.Bucket, "quarantine/" + from.Key);
        await store.WriteAsync(from, (stream, ct) => stream.WriteAsync("[1,2,3]"u8.ToArray(), ct).AsTask());

        await store.MoveAsync(from, to);

        await store.Invoking(s => s.HeadAsync(from)).Should().ThrowAsync<ObjectNotFoundException>();
        (await store.HeadAsync(to)).Size.Should().Be(7);
    }

    [Fact]
    public async Task Deleting_an_object_removes_it()
    {
        var store = s3.Store();
        var obj = NewObject();
        await store.WriteAsync(obj, (stream, ct) => stream.WriteAsync("{}"u8.ToArray(), ct).AsTask());

        await store.DeleteAsync(obj);

        await store.Invoking(s => s.HeadAsync(obj)).Should().ThrowAsync<ObjectNotFoundException>();
    }

    [Fact]
    public async Task The_local_server_reports_each_object_created()
    {
        var store = s3.Store();
        var obj = new ObjectRef(LocalS3Fixture.Bucket, $"incoming/{Guid.NewGuid():N}/events.json");
        await store.WriteAsync(obj, (stream, ct) => stream.WriteAsync("[]"u8.ToArray(), ct).AsTask());

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        ObjectRef created;
        do
        {
            created = await s3.Server.ObjectsCreated.ReadAsync(timeout.Token);
        }
        while (created != obj);

        created.Should().Be(obj);
    }

    [Fact]
    public void A_part_size_below_five_MiB_is_refused()
    {
        var create = () => new S3ObjectStore(s3.Client(), new S3ObjectStoreOptions { PartSize = 1024 * 1024 });

        create.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*at least 5242880 bytes*");
    }

    [Fact]
    public void Throttling_is_retried_by_the_sdk_standard_retry_mode()
    {
        using var client = s3.Client();

        client.Config.RetryMode.Should().Be(RequestRetryMode.Standard);
        client.Config.MaxErrorRetry.Should().Be(S3Clients.MaxErrorRetry);
    }

    /// <summary>A real client that records which S3 operations were sent.</summary>
    private sealed class RecordingS3Client(S3Connection connection) : AmazonS3Client(connection.Credentials, new AmazonS3Config
    {
        ServiceURL = connection.ServiceUrl!.ToString(),
        ForcePathStyle = true,
        AuthenticationRegion = connection.Region,
        RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
        ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
    })
    {
        public List<string> Calls { get; } = [];

        public override Task<PutObjectResponse> PutObjectAsync(PutObjectRequest request, CancellationToken cancellationToken = default)
        {
            Calls.Add("PutObject");
            return base.PutObjectAsync(request, cancellationToken);
        }

        public override Task<InitiateMultipartUploadResponse> InitiateMultipartUploadAsync(InitiateMultipartUploadRequest request, CancellationToken cancellationToken = default)
        {
            Calls.Add("InitiateMultipartUpload");
            return base.InitiateMultipartUploadAsync(request, cancellationToken);
        }

        public override Task<UploadPartResponse> UploadPartAsync(UploadPartRequest request, CancellationToken cancellationToken = default)
        {
            Calls.Add("UploadPart");
            return base.UploadPartAsync(request, cancellationToken);
        }

        public override Task<CompleteMultipartUploadResponse> CompleteMultipartUploadAsync(CompleteMultipartUploadRequest request, CancellationToken cancellationToken = default)
        {
            Calls.Add("CompleteMultipartUpload");
            return base.CompleteMultipartUploadAsync(request, cancellationToken);
        }

        public override Task<AbortMultipartUploadResponse> AbortMultipartUploadAsync(AbortMultipartUploadRequest request, CancellationToken cancellationToken = default)
        {
            // s3rver does not implement AbortMultipartUpload (405); the store tolerates that, as it
            // tolerates any failed abort (the bucket lifecycle rule cleans up after a day).
            Calls.Add("AbortMultipartUpload");
            return base.AbortMultipartUploadAsync(request, cancellationToken);
        }
    }
}
