using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Amazon.Runtime;
using Amazon.Runtime.Credentials;
using Amazon.Runtime.Internal.Auth;

namespace DataProcess.Cli;

/// <summary>
/// Signs API Gateway calls with SigV4 (service <c>execute-api</c>): the canonical request is built
/// here (AWSSDK.Core keeps its canonicaliser internal), the signing key and signature come from
/// AWSSDK.Core's <see cref="AWS4Signer.ComputeSignature(ImmutableCredentials, string, DateTime, string, string, string)"/>, the credentials from the SDK's default chain (environment, profile, SSO,
/// container/instance roles).
/// </summary>
internal sealed partial class ApiSigner(ImmutableCredentials credentials, string region, string service = ApiSigner.Service, bool signPayloadHeader = true)
{
    public const string Service = "execute-api";

    public static async Task<ApiSigner> CreateAsync(Uri api, string? region)
    {
        var fromHost = ApiHost().Match(api.Host);
        var signingRegion = fromHost.Success ? fromHost.Groups[1].Value : region
            ?? throw new InvalidOperationException("cannot tell the region to sign for: pass --region or set AWS_REGION");
        AWSCredentials chain;
        try
        {
            chain = await DefaultAWSCredentialsIdentityResolver.GetCredentialsAsync();
        }
        catch (AmazonClientException e)
        {
            throw new InvalidOperationException($"no AWS credentials to sign the API call ({e.Message}); configure the AWS CLI/SDK credentials, or pass --no-sign", e);
        }

        return new ApiSigner(await chain.GetCredentialsAsync(), signingRegion);
    }

    public void Sign(HttpRequestMessage request, string body) => Sign(request, body, DateTime.UtcNow);

    internal void Sign(HttpRequestMessage request, string body, DateTime now)
    {
        ArgumentNullException.ThrowIfNull(request);
        var uri = request.RequestUri!;
        var bodyHash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(body)));
        var headers = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["host"] = uri.IsDefaultPort ? uri.Host : $"{uri.Host}:{uri.Port.ToString(CultureInfo.InvariantCulture)}",
            ["x-amz-date"] = now.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture),
        };
        if (signPayloadHeader)
        {
            headers["x-amz-content-sha256"] = bodyHash;
        }

        if (request.Content?.Headers.ContentType is { } contentType)
        {
            headers["content-type"] = contentType.ToString();
        }

        if (credentials.UseToken)
        {
            headers["x-amz-security-token"] = credentials.Token;
        }

        var query = string.Join('&', (uri.Query.Length > 1 ? uri.Query[1..].Split('&') : [])
            .Select(p => p.Split('=', 2)).Select(p => (Name: Uri.EscapeDataString(Uri.UnescapeDataString(p[0])), Value: p.Length > 1 ? Uri.EscapeDataString(Uri.UnescapeDataString(p[1])) : string.Empty))
            .OrderBy(p => p.Name, StringComparer.Ordinal).ThenBy(p => p.Value, StringComparer.Ordinal).Select(p => $"{p.Name}={p.Value}"));
        var signedHeaders = string.Join(';', headers.Keys);
        var canonical = string.Join('\n',
            request.Method.Method,
            uri.AbsolutePath.Length == 0 ? "/" : uri.AbsolutePath,
            query,
            string.Concat(headers.Select(h => $"{h.Key}:{h.Value.Trim()}\n")),
            signedHeaders,
            bodyHash);
        var result = AWS4Signer.ComputeSignature(credentials, region, now, service, signedHeaders, canonical);

        request.Headers.TryAddWithoutValidation("x-amz-date", headers["x-amz-date"]);
        if (signPayloadHeader)
        {
            request.Headers.TryAddWithoutValidation("x-amz-content-sha256", bodyHash);
        }

        if (credentials.UseToken)
        {
            request.Headers.TryAddWithoutValidation("x-amz-security-token", credentials.Token);
        }

        request.Headers.TryAddWithoutValidation("Authorization", result.ForAuthorizationHeader);
    }

    [GeneratedRegex(@"\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$")]
    private static partial Regex ApiHost();
}
