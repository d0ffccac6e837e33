using Amazon.Runtime;
using DataProcess.DatabaseFunctions;

namespace DataProcess.Functions.Tests;

/// <summary>
/// The IAM database authentication token against the tokens the official SDKs' tests publish for fixed credentials
/// and time (research: /work/wt/notes/research/FINDINGS.md §1, each recomputed there by an independent
/// implementation): smithy-rs (the AWS SDK for Rust) asserts the canonical order exactly, botocore, the Java v2 and
/// JS v2 SDKs assert the same token in other parameter orders, so those compare as parameter sets.
/// </summary>
public sealed class RdsAuthTokenTests
{
    public static TheoryData<string, int, string, string, string, string, string?, string, string> PublishedTokens => new()
    {
        // smithy-lang/smithy-rs aws/rust-runtime/aws-inlineable/src/rds_auth_token.rs, signing_works (exact string)
        {
            "prod-instance.us-east-1.rds.amazonaws.com", 3306, "peccy", "us-east-1", "akid", "secret", null, "2024-08-26T22:00:00Z",
            "prod-instance.us-east-1.rds.amazonaws.com:3306/?Action=connect&DBUser=peccy&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=akid%2F20240826%2Fus-east-1%2Frds-db%2Faws4_request&X-Amz-Date=20240826T220000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature=dd0cba843009474347af724090233265628ace491ea17ce3eb3da098b983ad89"
        },
        // team-carepay/carepool-aws-jdbc AWS4RdsIamTokenGeneratorTest (exact string, a signed session token)
        {
            "dbhost.xyz.eu-west-1.amazonaws.com", 3306, "iam_user", "eu-west-1", "IAMKEYINSTANCE", "asdfqwertypolly", "mytoken", "2018-09-19T16:02:42Z",
            "dbhost.xyz.eu-west-1.amazonaws.com:3306/?Action=connect&DBUser=iam_user&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=IAMKEYINSTANCE%2F20180919%2Feu-west-1%2Frds-db%2Faws4_request&X-Amz-Date=20180919T160242Z&X-Amz-Expires=900&X-Amz-Security-Token=mytoken&X-Amz-SignedHeaders=host&X-Amz-Signature=8966604a85aa991ef9bed5135aa8565e0e22ae375d2b85892a16e1a642ae0bd1"
        },
        // botocore 1.43.11 generate_db_auth_token, clock fixed: the Aurora PostgreSQL shape, a session token needing encoding
        {
            "dataprocess-dev.cluster-abcdefghijkl.eu-west-1.rds.amazonaws.com", 5432, "dataprocess_app", "eu-west-1", "ASIAEXAMPLEEXAMPLE12", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "IQoJb3JpZ2luX2VjEXAMPLE/+abc==", "2026-01-02T03:04:05Z",
            "dataprocess-dev.cluster-abcdefghijkl.eu-west-1.rds.amazonaws.com:5432/?Action=connect&DBUser=dataprocess_app&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIAEXAMPLEEXAMPLE12%2F20260102%2Feu-west-1%2Frds-db%2Faws4_request&X-Amz-Date=20260102T030405Z&X-Amz-Expires=900&X-Amz-Security-Token=IQoJb3JpZ2luX2VjEXAMPLE%2F%2Babc%3D%3D&X-Amz-SignedHeaders=host&X-Amz-Signature=18785437c5fc1bc795f5cbcf3cad9628277c5bbb5057e1e0b30fb26e733c01b8"
        },
        // botocore, a user name every reserved character of which is percent-encoded
        {
            "db.example.internal", 5432, "a!b*c'(d) e~f", "us-east-1", "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", null, "2026-06-30T23:59:59Z",
            "db.example.internal:5432/?Action=connect&DBUser=a%21b%2Ac%27%28d%29%20e~f&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20260630%2Fus-east-1%2Frds-db%2Faws4_request&X-Amz-Date=20260630T235959Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature=d8cedb3de51a48f7b33e0e353d34777904d4df100d7e9fd8aa456e346c85d861"
        },
    };

    public static TheoryData<string, int, string, string, string, string, string> TokensInOtherOrders => new()
    {
        // boto/botocore tests/unit/test_signers.py TestGenerateDBAuthToken.test_generate_db_auth_token
        {
            "prod-instance.us-east-1.rds.amazonaws.com", 3306, "someusername", "akid", "skid", "2016-11-07T17:39:33Z",
            "prod-instance.us-east-1.rds.amazonaws.com:3306/?Action=connect&DBUser=someusername&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20161107T173933Z&X-Amz-SignedHeaders=host&X-Amz-Expires=900&X-Amz-Credential=akid%2F20161107%2Fus-east-1%2Frds-db%2Faws4_request&X-Amz-Signature=d1138cdbc0ca63eec012ec0fc6c2267e03642168f5884a7795320d4c18374c61"
        },
        // aws/aws-sdk-java-v2 DefaultRdsUtilitiesTest.testTokenGenerationWithBuilderDefaults
        {
            "host.us-east-1.amazonaws.com", 3306, "mySQLUser", "access_key", "secret_key", "2016-11-07T17:39:33Z",
            "host.us-east-1.amazonaws.com:3306/?DBUser=mySQLUser&Action=connect&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20161107T173933Z&X-Amz-SignedHeaders=host&X-Amz-Expires=900&X-Amz-Credential=access_key%2F20161107%2Fus-east-1%2Frds-db%2Faws4_request&X-Amz-Signature=87ab58107ef49f1c311a412f98b7f976b0b5152ffb559f0d36c6c9a0c5e0e362"
        },
        // aws/aws-sdk-js test/rds/signer.spec.js getAuthToken
        {
            "db.us-east-1.amazonaws.com", 8000, "test", "akid", "secret", "1970-01-01T00:00:00Z",
            "db.us-east-1.amazonaws.com:8000/?Action=connect&DBUser=test&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=akid%2F19700101%2Fus-east-1%2Frds-db%2Faws4_request&X-Amz-Date=19700101T000000Z&X-Amz-Expires=900&X-Amz-Signature=6f2b4daa29668c1c264d7af7927d9d2a706768e35d92d76b461aedbaca14b6ad&X-Amz-SignedHeaders=host"
        },
    };

    [Theory]
    [MemberData(nameof(PublishedTokens))]
    public void The_token_is_the_one_the_official_sdks_generate_for_the_same_credentials_and_time(
        string host, int port, string user, string region, string accessKey, string secretKey, string? sessionToken, string time, string expected)
    {
        var token = RdsAuthToken.Generate(host, port, user, region, new ImmutableCredentials(accessKey, secretKey, sessionToken), DateTimeOffset.Parse(time, System.Globalization.CultureInfo.InvariantCulture));

        token.Should().Be(expected);
    }

    [Theory]
    [MemberData(nameof(TokensInOtherOrders))]
    public void The_token_has_the_parameters_and_signature_of_sdks_that_emit_another_order(
        string host, int port, string user, string accessKey, string secretKey, string time, string expected)
    {
        var token = RdsAuthToken.Generate(host, port, user, "us-east-1", new ImmutableCredentials(accessKey, secretKey, null), DateTimeOffset.Parse(time, System.Globalization.CultureInfo.InvariantCulture));

        token[..token.IndexOf('?', StringComparison.Ordinal)].Should().Be(expected[..expected.IndexOf('?', StringComparison.Ordinal)]);
        Parameters(token).Should().BeEquivalentTo(Parameters(expected));
    }

    [Fact]
    public void The_region_signed_is_the_one_given_not_the_one_in_the_host_name()
    {
        var credentials = new ImmutableCredentials("akid", "secret", null);
        var time = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

        var token = RdsAuthToken.Generate("db.us-east-1.rds.amazonaws.com", 5432, "dataprocess_app", "eu-west-1", credentials, time);

        Parameters(token)["X-Amz-Credential"].Should().Be("akid%2F20260102%2Feu-west-1%2Frds-db%2Faws4_request");
        token.Should().NotContain("https://", "the token is used as a password: no scheme");
    }

    private static Dictionary<string, string> Parameters(string token) =>
        token[(token.IndexOf('?', StringComparison.Ordinal) + 1)..].Split('&').Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
}
