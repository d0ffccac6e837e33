using DataProcess.Core.Local;
using DataProcess.Core.Ports;

namespace DataProcess.Aws;

/// <summary>
/// The composition root of the Lambda functions: reads names and locations (never secrets) from the
/// environment and builds the adapters. In AWS: <c>DATAPROCESS_OBJECT_STORE=s3</c> → S3, the HMAC key
/// from the secret <c>DATAPROCESS_HMAC_SECRET_ID</c>, the database from <c>DATAPROCESS_DB_*</c> and its
/// managed secret. On a workstation: the directory store (<c>DATAPROCESS_LOCAL_STORE</c>), the key
/// from <c>DATAPROCESS_HMAC_KEY_FILE</c> / <c>DATAPROCESS_HMAC_KEY</c>, the database from
/// <c>DATAPROCESS_DATABASE</c>. For a local S3 server, <c>DATAPROCESS_S3_SERVICE_URL</c> (path style).
/// </summary>
public static class AwsFunctionEnvironment
{
    public const string ObjectStoreVariable = "DATAPROCESS_OBJECT_STORE";
    public const string S3ServiceUrlVariable = "DATAPROCESS_S3_SERVICE_URL";
    public const string HmacSecretVariable = "DATAPROCESS_HMAC_SECRET_ID";
    public const string HmacKeyFileVariable = "DATAPROCESS_HMAC_KEY_FILE";
    public const string DatabaseVariable = "DATAPROCESS_DATABASE";

    private static readonly Lazy<SsmSecretReader> Secrets = new(SsmSecretReader.CreateDefault);

    public static IObjectStore ObjectStore() => ObjectStore(Environment.GetEnvironmentVariable);

    public static IObjectStore ObjectStore(Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var kind = environment(ObjectStoreVariable);
        if (!string.Equals(kind, "s3", StringComparison.OrdinalIgnoreCase))
        {
            return FunctionEnvironment.ObjectStore();
        }

        var connection = environment(S3ServiceUrlVariable) is { Length: > 0 } url
            ? new S3Connection { ServiceUrl = new Uri(url), ForcePathStyle = true }
            : new S3Connection();
        return new S3ObjectStore(S3Clients.Create(connection), new S3ObjectStoreOptions { DisableChunkEncoding = connection.IsLocal });
    }

    public static IHmacKeySource HmacKeys() => HmacKeys(Environment.GetEnvironmentVariable, () => Secrets.Value);

    public static IHmacKeySource HmacKeys(Func<string, string?> environment, Func<ISecretReader> secrets)
    {
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(secrets);
        return environment(HmacSecretVariable) is { Length: > 0 } secretId
            ? new SecretsManagerHmacKeySource(secrets(), secretId)
            : new LocalHmacKeySource(environment(HmacKeyFileVariable), environment);
    }

    /// <summary><c>DATAPROCESS_DATABASE</c> when set, else the Aurora connection from <c>DATAPROCESS_DB_*</c> and its secret.</summary>
    public static Task<string> DatabaseConnectionStringAsync(CancellationToken cancellationToken = default) =>
        DatabaseConnectionStringAsync(Environment.GetEnvironmentVariable, () => Secrets.Value, cancellationToken);

    public static async Task<string> DatabaseConnectionStringAsync(Func<string, string?> environment, Func<ISecretReader> secrets, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(secrets);
        if (environment(DatabaseVariable) is { Length: > 0 } connectionString)
        {
            return connectionString;
        }

        if (string.IsNullOrEmpty(environment(DatabaseCredentials.SecretVariable)))
        {
            throw new InvalidOperationException(
                $"no database configured: set {DatabaseVariable} to a PostgreSQL connection string, or {DatabaseCredentials.HostVariable}, {DatabaseCredentials.NameVariable} and {DatabaseCredentials.SecretVariable}");
        }

        return await DatabaseCredentials.ConnectionStringAsync(secrets(), environment, cancellationToken);
    }
}
