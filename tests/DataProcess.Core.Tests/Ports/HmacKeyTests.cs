using System.Security.Cryptography;
using System.Text;
using DataProcess.Core.Ports;
using DataProcess.Core.Transforms;

using DataProcess.Core.Tests.Transforms;

namespace DataProcess.Core.Tests.Ports;

public sealed class HmacKeyTests
{
    [Fact]
    public void The_fingerprint_is_a_keyed_hash_of_a_fixed_label_truncated_to_32_hex_characters()
    {
        var bytes = RandomNumberGenerator.GetBytes(32);
        var label = new byte[] { 0xFF }.Concat("dataprocess/key-fingerprint/v1"u8.ToArray()).ToArray();

        var fingerprint = new HmacKey(bytes).Fingerprint;

        fingerprint.Should().MatchRegex("^[0-9a-f]{32}$");
        fingerprint.Should().Be(Convert.ToHexStringLower(HMACSHA256.HashData(bytes, label))[..32]);
        new HmacKey(bytes).Fingerprint.Should().Be(fingerprint, "the same key has the same fingerprint");
        new HmacKey(RandomNumberGenerator.GetBytes(32)).Fingerprint.Should().NotBe(fingerprint);
    }

    [Fact]
    public void The_fingerprint_never_reveals_the_key_nor_equals_a_pseudonym_of_the_label_text()
    {
        var bytes = RandomNumberGenerator.GetBytes(32);
        var key = new HmacKey(bytes);

        key.Fingerprint.Should().NotContain(Convert.ToHexStringLower(bytes)[..8]);
        TransformFixtures.PseudonymOf(key, "dataprocess/key-fingerprint/v1").Should().NotStartWith(key.Fingerprint);
        TransformFixtures.PseudonymOf(key, Encoding.Latin1.GetString([0xFF]) + "dataprocess/key-fingerprint/v1").Should().NotStartWith(key.Fingerprint, "no text's UTF-8 starts with 0xFF");
    }
}
