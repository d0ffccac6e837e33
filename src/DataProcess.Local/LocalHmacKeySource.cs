using DataProcess.Core.Ports;

namespace DataProcess.Local;

/// <summary>
/// The HMAC key on a workstation: a key file (base64, as <c>openssl rand -base64 32</c> writes it),
/// else the environment variable <c>DATAPROCESS_HMAC_KEY</c>. No key is an error: a built-in default
/// would make every pseudonym guessable.
/// </summary>
public sealed class LocalHmacKeySource(string? keyFile, Func<string, string?>? environment = null) : IHmacKeySource
{
    public const string EnvironmentVariable = "DATAPROCESS_HMAC_KEY";

    public async Task<HmacKey> GetKeyAsync(CancellationToken cancellationToken = default)
    {
        if (keyFile is not null)
        {
            string text;
            try
            {
                text = await File.ReadAllTextAsync(keyFile, cancellationToken);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new KeyRefusedException($"the key file {keyFile} cannot be read: {e.Message}");
            }

            return HmacKey.FromBase64(text, $"the key file {keyFile}");
        }

        var value = (environment ?? Environment.GetEnvironmentVariable)(EnvironmentVariable);
        if (string.IsNullOrEmpty(value))
        {
            throw new KeyRefusedException($"no HMAC key: pass --key-file FILE or set {EnvironmentVariable} (create a key with: openssl rand -base64 32)");
        }

        return HmacKey.FromBase64(value, EnvironmentVariable);
    }
}
