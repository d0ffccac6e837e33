using Amazon.S3;
using Amazon.S3.Model;

namespace DataProcess.UploadUrl;

/// <summary>A browser-style POST upload: where to send the multipart form and which fields to put before the file.</summary>
public sealed record PresignedPost(Uri Url, IReadOnlyDictionary<string, string> Fields);

public interface IUploadPresigner
{
    Task<PresignedPost> PresignAsync(string bucket, string key, string contentType, long maxBytes, DateTime expiresUtc);
}

/// <summary>
/// Presigned S3 POSTs. The signed policy pins the bucket, the exact key, the exact Content-Type and
/// <c>content-length-range</c> 1..declared size, and expires: S3 refuses a form that breaks any of
/// them, whatever the client does. (A presigned PUT can only pin an exact Content-Length; the POST
/// policy states the limit itself.)
/// </summary>
public sealed class S3PostPresigner(IAmazonS3 s3) : IUploadPresigner
{
    public async Task<PresignedPost> PresignAsync(string bucket, string key, string contentType, long maxBytes, DateTime expiresUtc)
    {
        var request = new CreatePresignedPostRequest
        {
            BucketName = bucket,
            Key = key,
            Expires = expiresUtc,
            Fields = new Dictionary<string, string> { ["Content-Type"] = contentType },
            Conditions =
            [
                S3PostCondition.ExactMatch("Content-Type", contentType),
                S3PostCondition.ContentLengthRange(1, maxBytes),
            ],
        };
        var response = await s3.CreatePresignedPostAsync(request);
        return new PresignedPost(new Uri(response.Url), new Dictionary<string, string>(response.Fields, StringComparer.Ordinal));
    }
}
