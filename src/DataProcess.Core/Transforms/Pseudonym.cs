using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace DataProcess.Core.Transforms;

/// <summary>The <c>hash</c> method: a keyed pseudonym, deterministic per key so joins across datasets still work.</summary>
internal static class Pseudonym
{
    /// <summary>Texts up to this many UTF-8 bytes are encoded on the stack; longer ones use a pooled buffer.</summary>
    private const int StackBufferBytes = 512;

    private const int MacBytes = 32;

    /// <summary>
    /// HMAC-SHA256 of the UTF-8 text as 64 lowercase hex characters, through a long-lived <see cref="HMACSHA256"/>:
    /// the key schedule is done once per instance instead of once per value. The instance is not thread-safe.
    /// </summary>
    public static string Compute(HMACSHA256 hmac, ReadOnlySpan<char> text)
    {
        byte[]? rented = null;
        var buffer = text.Length <= StackBufferBytes / 3
            ? stackalloc byte[StackBufferBytes]
            : (rented = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetByteCount(text)));
        var length = 0;
        try
        {
            length = Encoding.UTF8.GetBytes(text, buffer);
            Span<byte> mac = stackalloc byte[MacBytes];
            if (!hmac.TryComputeHash(buffer[..length], mac, out _))
            {
                throw new CryptographicException("HMAC-SHA256 did not fit its 32-byte output");
            }

            return Convert.ToHexStringLower(mac);
        }
        finally
        {
            // The buffer held personal data; a pooled array is handed to unrelated code next.
            CryptographicOperations.ZeroMemory(buffer[..length]);
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>The pseudonym of text given as UTF-8, written as 64 lowercase hex UTF-8 bytes: no string on the way.</summary>
    public static void ComputeUtf8(HMACSHA256 hmac, ReadOnlySpan<byte> utf8, Span<byte> hex)
    {
        Span<byte> mac = stackalloc byte[MacBytes];
        if (!hmac.TryComputeHash(utf8, mac, out _) || !Convert.TryToHexStringLower(mac, hex, out _))
        {
            throw new CryptographicException("HMAC-SHA256 did not fit its 32-byte output");
        }
    }
}
