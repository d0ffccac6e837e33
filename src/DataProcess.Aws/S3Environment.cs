using Amazon.S3;
using DataProcess.Core.Ports;

namespace DataProcess.Aws;

/// <summary>
/// S3 for a deployed function: the function's region and role (the SDK's default chain), nothing else to
/// configure. A workstation never comes through here: the CLI builds its own stores (DataProcess.Local).
/// </summary>
public static class S3Environment
{
    /// <summary>The kind of object store; Terraform sets <c>s3</c>, the only kind a deployed function has.</summary>
    public const string ObjectStoreVariable = "DATAPROCESS_OBJECT_STORE";

    public static IObjectStore ObjectStore() => ObjectStore(Environment.GetEnvironmentVariable);

    /// <summary>An S3 client in the function's region, with the function's role.</summary>
    public static AmazonS3Client Client() => S3Clients.Create(new S3Connection());

    internal static IObjectStore ObjectStore(Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        if (environment(ObjectStoreVariable) is { Length: > 0 } kind && !string.Equals(kind, "s3", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"{ObjectStoreVariable} is '{kind}': a deployed function reads and writes S3 only (s3)");
        }

        return new S3ObjectStore(Client());
    }
}
