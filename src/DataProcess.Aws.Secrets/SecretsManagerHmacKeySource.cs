using DataProcess.Core.Ports;

namespace DataProcess.Aws.Secrets;

/// <summary>The pseudonymisation key from a Secrets Manager secret whose value is the base64 key.</summary>
public sealed class SecretsManagerHmacKeySource(ISecretReader secrets, string secretId) : IHmacKeySource
{
    /// <summary>The id (ARN) of the HMAC key's secret, never its value: set by Terraform for Anonymization and ReplayCheck.</summary>
    public const string SecretVariable = "DATAPROCESS_HMAC_SECRET_ID";

    /// <summary>A deployed function's key: the secret <c>DATAPROCESS_HMAC_SECRET_ID</c> names, read through SSM.</summary>
    public static SecretsManagerHmacKeySource FromEnvironment() => FromEnvironment(Environment.GetEnvironmentVariable, () => SsmSecretReader.Shared);

    internal static SecretsManagerHmacKeySource FromEnvironment(Func<string, string?> environment, Func<ISecretReader> secrets) =>
        environment(SecretVariable) is { Length: > 0 } secretId
            ? new SecretsManagerHmacKeySource(secrets(), secretId)
            : throw new InvalidOperationException($"the environment variable {SecretVariable} is not set: the function reads the HMAC key from the secret it names");

    public async Task<HmacKey> GetKeyAsync(CancellationToken cancellationToken = default)
    {
        string value;
        try
        {
            value = await secrets.ReadAsync(secretId, cancellationToken);
        }
        catch (SecretUnavailableException e)
        {
            throw new KeyRefusedException($"no HMAC key: {e.Message}");
        }

        return HmacKey.FromBase64(value, $"the secret {secretId}");
    }
}
