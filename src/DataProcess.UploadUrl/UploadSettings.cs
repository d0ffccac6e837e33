using System.Globalization;
using DataProcess.Core.Payloads;

namespace DataProcess.UploadUrl;

/// <summary>
/// What the upload API hands out, from the function's environment: the bucket
/// (<c>DATAPROCESS_UPLOAD_BUCKET</c>), the key prefix (<c>DATAPROCESS_UPLOAD_PREFIX</c>, default
/// <c>incoming/</c>), the size cap in bytes (<c>DATAPROCESS_UPLOAD_MAX_BYTES</c>, default 1 GiB; S3
/// itself caps a POST upload at 5 GB) and the lifetime of a presigned POST
/// (<c>DATAPROCESS_UPLOAD_EXPIRY_SECONDS</c>, default 900).
/// </summary>
public sealed record UploadSettings
{
    public const string BucketVariable = "DATAPROCESS_UPLOAD_BUCKET";
    public const string PrefixVariable = "DATAPROCESS_UPLOAD_PREFIX";
    public const string MaxBytesVariable = "DATAPROCESS_UPLOAD_MAX_BYTES";
    public const string ExpiryVariable = "DATAPROCESS_UPLOAD_EXPIRY_SECONDS";

    /// <summary>S3's limit for a single POST (or PUT) upload.</summary>
    public const long S3PostLimit = 5L * 1000 * 1000 * 1000;

    public required string Bucket { get; init; }

    public string Prefix { get; init; } = KeyLayout.IncomingPrefix;

    public long MaxBytes { get; init; } = 1L << 30;

    public TimeSpan Expiry { get; init; } = TimeSpan.FromMinutes(15);

    public static UploadSettings FromEnvironment(Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var settings = new UploadSettings
        {
            Bucket = environment(BucketVariable) is { Length: > 0 } bucket ? bucket : throw new InvalidOperationException($"the environment variable {BucketVariable} is not set"),
        };
        if (environment(PrefixVariable) is { Length: > 0 } prefix)
        {
            settings = settings with { Prefix = prefix.EndsWith('/') ? prefix : prefix + "/" };
        }

        if (environment(MaxBytesVariable) is { Length: > 0 } max)
        {
            settings = settings with { MaxBytes = long.TryParse(max, NumberStyles.None, CultureInfo.InvariantCulture, out var bytes) && bytes is > 0 and <= S3PostLimit
                ? bytes
                : throw new InvalidOperationException($"{MaxBytesVariable} must be a number of bytes between 1 and {S3PostLimit}") };
        }

        if (environment(ExpiryVariable) is { Length: > 0 } expiry)
        {
            settings = settings with { Expiry = int.TryParse(expiry, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds is >= 60 and <= 3600
                ? TimeSpan.FromSeconds(seconds)
                : throw new InvalidOperationException($"{ExpiryVariable} must be between 60 and 3600 seconds") };
        }

        return settings;
    }
}
