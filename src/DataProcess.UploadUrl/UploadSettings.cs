using System.Globalization;
using DataProcess.Core.Payloads;

namespace DataProcess.UploadUrl;

/// <summary>
/// What the upload API hands out, from the function's environment: the bucket
/// (<c>DATAPROCESS_UPLOAD_BUCKET</c>), the key prefix (<c>DATAPROCESS_UPLOAD_PREFIX</c>, default
/// <c>incoming/</c>), the size cap in bytes (<c>DATAPROCESS_UPLOAD_MAX_BYTES</c>, default 1 GiB; S3
/// itself caps a POST upload at 5 GB) and the lifetime of a presigned POST
/// (<c>DATAPROCESS_UPLOAD_EXPIRY_SECONDS</c>, default 900), and the datasets it accepts
/// (<c>DATAPROCESS_UPLOAD_DATASETS</c>, comma-separated, required: Terraform writes the names of the files in
/// the profiles/ directory, so the API refuses an unknown dataset without reading S3).
/// </summary>
public sealed record UploadSettings
{
    public const string BucketVariable = "DATAPROCESS_UPLOAD_BUCKET";
    public const string PrefixVariable = "DATAPROCESS_UPLOAD_PREFIX";
    public const string MaxBytesVariable = "DATAPROCESS_UPLOAD_MAX_BYTES";
    public const string ExpiryVariable = "DATAPROCESS_UPLOAD_EXPIRY_SECONDS";
    public const string DatasetsVariable = "DATAPROCESS_UPLOAD_DATASETS";

    /// <summary>S3's limit for a single POST (or PUT) upload.</summary>
    public const long S3PostLimit = 5L * 1000 * 1000 * 1000;

    public required string Bucket { get; init; }

    /// <summary>The datasets uploads may name: the stack's profiles.</summary>
    public required IReadOnlySet<string> Datasets { get; init; }

    public string Prefix { get; init; } = KeyLayout.IncomingPrefix;

    public long MaxBytes { get; init; } = 1L << 30;

    public TimeSpan Expiry { get; init; } = TimeSpan.FromMinutes(15);

    public static UploadSettings FromEnvironment(Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var settings = new UploadSettings
        {
            Bucket = environment(BucketVariable) is { Length: > 0 } bucket ? bucket : throw new InvalidOperationException($"the environment variable {BucketVariable} is not set"),
            Datasets = ParseDatasets(environment(DatasetsVariable)),
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

    /// <summary><c>customers,orders</c> → the set; every name must be a dataset name.</summary>
    public static IReadOnlySet<string> ParseDatasets(string? list)
    {
        if (string.IsNullOrWhiteSpace(list))
        {
            throw new InvalidOperationException($"the environment variable {DatasetsVariable} is not set (the comma-separated dataset names of the stack's profiles)");
        }

        var names = list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var name in names)
        {
            if (!KeyLayout.IsDatasetName(name))
            {
                throw new InvalidOperationException($"{DatasetsVariable}: '{name}' is not a dataset name (1-63 of a-z, 0-9, '_' or '-', starting with a letter)");
            }
        }

        return names.ToHashSet(StringComparer.Ordinal);
    }
}
