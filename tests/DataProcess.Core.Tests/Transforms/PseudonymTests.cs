using System.Security.Cryptography;
using System.Text;
using DataProcess.Core.Ports;
using DataProcess.Core.Transforms;

namespace DataProcess.Core.Tests.Transforms;

public sealed class PseudonymTests
{
    [Fact]
    public void Compute_matches_HMAC_SHA256_of_the_UTF8_text_as_lowercase_hex()
    {
        var keyBytes = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
        var expected = Convert.ToHexStringLower(HMACSHA256.HashData(keyBytes, Encoding.UTF8.GetBytes("jürgen@example.com")));

        TransformFixtures.PseudonymOf(new HmacKey(keyBytes), "jürgen@example.com").Should().Be(expected);
    }

    [Fact]
    public void Compute_returns_64_lowercase_hex_characters()
    {
        TransformFixtures.PseudonymOf(new HmacKey(new byte[32]), "x").Should().MatchRegex("^[0-9a-f]{64}$");
    }

    [Fact]
    public void Compute_is_stable_for_one_key()
    {
        var key = new HmacKey(RandomNumberGenerator.GetBytes(32));

        TransformFixtures.PseudonymOf(key, "alice@example.com").Should().Be(TransformFixtures.PseudonymOf(key, "alice@example.com"));
    }

    [Fact]
    public void Compute_differs_for_another_key()
    {
        var one = new HmacKey(RandomNumberGenerator.GetBytes(32));
        var other = new HmacKey(RandomNumberGenerator.GetBytes(32));

        TransformFixtures.PseudonymOf(one, "alice@example.com").Should().NotBe(TransformFixtures.PseudonymOf(other, "alice@example.com"));
    }

    [Fact]
    public void Compute_handles_text_longer_than_the_stack_buffer()
    {
        var text = new string('é', 5000);
        var expected = Convert.ToHexStringLower(HMACSHA256.HashData(new byte[32], Encoding.UTF8.GetBytes(text)));

        TransformFixtures.PseudonymOf(new HmacKey(new byte[32]), text).Should().Be(expected);
    }

    [Fact]
    public void Compute_of_empty_text_is_the_HMAC_of_no_bytes()
    {
        var expected = Convert.ToHexStringLower(HMACSHA256.HashData(new byte[32], Array.Empty<byte>()));

        TransformFixtures.PseudonymOf(new HmacKey(new byte[32]), "").Should().Be(expected);
    }
}
