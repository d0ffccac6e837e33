using DataProcess.Core.Ports;

namespace DataProcess.Aws;

/// <summary>The pseudonymisation key from a Secrets Manager secret whose value is the base64 key.</summary>
public sealed class SecretsManagerHmacKeySource(ISecretReader secrets, string secretId) : IHmacKeySource
{
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
