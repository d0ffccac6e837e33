using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Amazon.Runtime;
using Amazon.Runtime.Credentials;

namespace DataProcess.DatabaseFunctions;

/// <summary>
/// An RDS IAM database authentication token: a SigV4 query-string presign of
/// <c>GET https://host:port/?Action=connect&amp;DBUser=user</c> for service <c>rds-db</c>, valid 900 seconds, with the
/// scheme stripped. AWSSDK.RDS (whose generator does this) is not available here, and AWSSDK.Core's presigner is
/// internal, so this is the small signer of our own; its output is checked against the tokens the official SDKs'
/// tests publish (tests: RdsAuthTokenTests). Parameters are emitted in canonical order with the signature last.
/// Signing is local HMAC work (no network call), so a token per new connection costs nothing worth caching.
/// </summary>
internal static class RdsAuthToken
{
    public const string Service = "rds-db";

    /// <summary>How long a token may be used to open a connection: RDS refuses older ones.</summary>
    public const int ExpirySeconds = 900;

    private const string Algorithm = "AWS4-HMAC-SHA256";

    /// <summary>SHA-256 of the empty payload: a presigned GET signs no body.</summary>
    private const string EmptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    public static string Generate(string host, int port, string user, string region, ImmutableCredentials credentials, DateTimeOffset now)
    {
        ArgumentException.ThrowIfNullOrEmpty(host);
        ArgumentException.ThrowIfNullOrEmpty(user);
        ArgumentException.ThrowIfNullOrEmpty(region);
        ArgumentNullException.ThrowIfNull(credentials);
        var time = now.UtcDateTime;
        var date = time.ToString("yyyyMMdd", CultureInfo.InvariantCulture);
        var stamp = time.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var scope = $"{date}/{region}/{Service}/aws4_request";
        var hostHeader = $"{host}:{port.ToString(CultureInfo.InvariantCulture)}";

        var parameters = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["Action"] = "connect",
            ["DBUser"] = user,
            ["X-Amz-Algorithm"] = Algorithm,
            ["X-Amz-Credential"] = $"{credentials.AccessKey}/{scope}",
            ["X-Amz-Date"] = stamp,
            ["X-Amz-Expires"] = ExpirySeconds.ToString(CultureInfo.InvariantCulture),
            ["X-Amz-SignedHeaders"] = "host",
        };
        if (credentials.UseToken)
        {
            // A session token (Lambda's role credentials always have one) is part of what is signed.
            parameters["X-Amz-Security-Token"] = credentials.Token;
        }

        // Every name here is already in RFC 3986 order once encoded: encoding leaves [A-Za-z0-9-] alone.
        var query = string.Join('&', parameters.Select(p => $"{Uri.EscapeDataString(p.Key)}={Uri.EscapeDataString(p.Value)}"));
        var canonicalRequest = $"GET\n/\n{query}\nhost:{hostHeader}\n\nhost\n{EmptyPayloadHash}";
        var stringToSign = $"{Algorithm}\n{stamp}\n{scope}\n{Hex(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalRequest)))}";

        var key = Hmac(Encoding.UTF8.GetBytes("AWS4" + credentials.SecretKey), date);
        key = Hmac(key, region);
        key = Hmac(key, Service);
        key = Hmac(key, "aws4_request");
        var signature = Hex(Hmac(key, stringToSign));
        return $"{hostHeader}/?{query}&X-Amz-Signature={signature}";
    }

    /// <summary>A token for the Lambda's own role: credentials from the SDK's default chain (the runtime's environment variables, no network call).</summary>
    public static string ForProcess(string host, int port, string user, string region) =>
        Generate(host, port, user, region, DefaultAWSCredentialsIdentityResolver.GetCredentials().GetCredentials(), DateTimeOffset.UtcNow);

    private static byte[] Hmac(byte[] key, string data) => HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(data));

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);
}
