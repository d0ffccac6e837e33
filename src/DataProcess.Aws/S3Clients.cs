using Amazon.Runtime;
using Amazon.S3;

namespace DataProcess.Aws;

/// <summary>Where and how to reach S3: AWS itself (no service URL) or a local S3-compatible server.</summary>
public sealed record S3Connection
{
    /// <summary>The endpoint of a local S3-compatible server; null for AWS (region from the usual chain).</summary>
    public Uri? ServiceUrl { get; init; }

    /// <summary>Path-style addressing (<c>http://host/bucket/key</c>), which local servers need.</summary>
    public bool ForcePathStyle { get; init; }

    /// <summary>Explicit credentials (a local server's fixed keys); null uses the SDK's default chain.</summary>
    public AWSCredentials? Credentials { get; init; }

    /// <summary>The region to sign for; null uses the SDK's default chain (AWS_REGION in Lambda).</summary>
    public string? Region { get; init; }
}

/// <summary>
/// Builds S3 clients. Throttling (503 SlowDown) and transient errors are retried by the SDK's
/// <c>standard</c> retry mode with exponential backoff and jitter; nothing here retries by hand.
/// </summary>
public static class S3Clients
{
    public const int MaxErrorRetry = 5;

    public static AmazonS3Client Create(S3Connection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var config = new AmazonS3Config
        {
            RetryMode = RequestRetryMode.Standard,
            MaxErrorRetry = MaxErrorRetry,
            ForcePathStyle = connection.ForcePathStyle,
        };
        if (connection.ServiceUrl is { } url)
        {
            config.ServiceURL = url.ToString();
            config.AuthenticationRegion = connection.Region ?? "us-east-1";
            // Local servers know neither flexible checksums nor aws-chunked encoding.
            config.RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED;
            config.ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED;
        }
        else if (connection.Region is { } region)
        {
            config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(region);
        }

        return connection.Credentials is { } credentials ? new AmazonS3Client(credentials, config) : new AmazonS3Client(config);
    }
}
