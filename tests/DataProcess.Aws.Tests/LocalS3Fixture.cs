using Amazon.S3;
using DataProcess.Aws;
using DataProcess.Local;

namespace DataProcess.Aws.Tests;

/// <summary>One s3rver per test class (node + tools/node_modules), in a throwaway directory.</summary>
public sealed class LocalS3Fixture : IAsyncLifetime
{
    public const string Bucket = "input";

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "dataprocess-s3-" + Guid.NewGuid().ToString("N")[..8]);
    private LocalS3Server? _server;

    public LocalS3Server Server => _server ?? throw new InvalidOperationException("not started");

    public async Task InitializeAsync() => _server = await LocalS3Server.StartAsync(_directory, [Bucket, "staging"]);

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        Directory.Delete(_directory, recursive: true);
    }

    public AmazonS3Client Client() => S3Clients.Create(Server.Connection);

    public S3ObjectStore Store(int partSize = S3ObjectStoreOptions.MinimumPartSize, IAmazonS3? client = null) =>
        new(client ?? Client(), new S3ObjectStoreOptions { PartSize = partSize, DisableChunkEncoding = true });
}
