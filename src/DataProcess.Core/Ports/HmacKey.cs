using System.Security.Cryptography;

namespace DataProcess.Core.Ports;

/// <summary>
/// Supplies the HMAC key for pseudonyms. Locally it comes from a key file or
/// DATAPROCESS_HMAC_KEY; in AWS from Secrets Manager. There is no built-in default.
/// </summary>
public interface IHmacKeySource
{
    Task<HmacKey> GetKeyAsync(CancellationToken cancellationToken = default);
}

/// <summary>A pseudonymisation key of at least 32 bytes. Its bytes never reach a log or a message.</summary>
public sealed class HmacKey
{
    internal const int MinimumLength = 32;

    private readonly byte[] _bytes;

    public HmacKey(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < MinimumLength)
        {
            throw new KeyRefusedException($"the HMAC key is {bytes.Length} bytes; at least {MinimumLength} are required");
        }

        _bytes = bytes.ToArray();
        Fingerprint = ComputeFingerprint(_bytes);
    }

    internal ReadOnlySpan<byte> Bytes => _bytes;

    /// <summary>
    /// Names the key in the run ledger without revealing it: the first 16 bytes (32 hex characters) of
    /// HMAC-SHA256 under the key of the fixed label <c>0xFF "dataprocess/key-fingerprint/v1"</c>. The label starts
    /// with a byte that never occurs in UTF-8, so the fingerprint is never the pseudonym of any value.
    /// </summary>
    internal string Fingerprint { get; }

    /// <summary>Reads a key written as base64 (what <c>openssl rand -base64 32</c> prints).</summary>
    public static HmacKey FromBase64(string text, string origin)
    {
        ArgumentNullException.ThrowIfNull(text);
        var trimmed = text.Trim();
        if (trimmed.Length == 0)
        {
            throw new KeyRefusedException($"{origin} is empty");
        }

        var buffer = new byte[trimmed.Length];
        if (!Convert.TryFromBase64String(trimmed, buffer, out var written))
        {
            throw new KeyRefusedException($"{origin} is not base64 (create one with: openssl rand -base64 32)");
        }

        try
        {
            return new HmacKey(buffer.AsSpan(0, written));
        }
        catch (KeyRefusedException e)
        {
            throw new KeyRefusedException($"{origin}: {e.Message}");
        }
    }

    public override string ToString() => "HmacKey(***)";

    private static string ComputeFingerprint(byte[] key)
    {
        ReadOnlySpan<byte> label = [0xFF, .. "dataprocess/key-fingerprint/v1"u8];
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(key, label, mac);
        return Convert.ToHexStringLower(mac[..16]);
    }
}

/// <summary>The key is missing or unusable; the run is refused before any record is read.</summary>
public sealed class KeyRefusedException(string message) : Exception(message);
