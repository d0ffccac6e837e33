using System.Collections.Concurrent;
using Amazon.Runtime;
using Amazon.SimpleSystemsManagement;
using Amazon.SimpleSystemsManagement.Model;
using DataProcess.Core.Ports;

namespace DataProcess.Aws.Secrets;

/// <summary>
/// Reads Secrets Manager secrets through SSM Parameter Store's reference path
/// (<c>GetParameter("/aws/reference/secretsmanager/&lt;secret-id&gt;", WithDecryption = true)</c>):
/// AWSSDK.SecretsManager is not available here, and Parameter Store resolves the reference with the
/// caller's <c>secretsmanager:GetSecretValue</c> permission. Values are cached per process for
/// <see cref="DefaultTimeToLive"/> so a warm Lambda container does not call SSM per invocation, and
/// a rotated secret is picked up within that time.
/// </summary>
public sealed class SsmSecretReader : ISecretReader
{
    public const string ReferencePrefix = "/aws/reference/secretsmanager/";

    public static readonly TimeSpan DefaultTimeToLive = TimeSpan.FromMinutes(5);

    private static readonly Lazy<SsmSecretReader> ForProcess = new(CreateDefault);

    private readonly IAmazonSimpleSystemsManagement _ssm;
    private readonly TimeSpan _timeToLive;
    private readonly TimeProvider _clock;
    private readonly ConcurrentDictionary<string, (string Value, DateTimeOffset Expires)> _cache = new(StringComparer.Ordinal);

    public SsmSecretReader(IAmazonSimpleSystemsManagement ssm, TimeSpan? timeToLive = null, TimeProvider? clock = null)
    {
        _ssm = ssm ?? throw new ArgumentNullException(nameof(ssm));
        _timeToLive = timeToLive ?? DefaultTimeToLive;
        _clock = clock ?? TimeProvider.System;
    }

    /// <summary>The process's reader: one SSM client and one cache per Lambda container.</summary>
    public static SsmSecretReader Shared => ForProcess.Value;

    private static SsmSecretReader CreateDefault() => Create();

    /// <summary>
    /// A reader on an SSM client with the SDK's standard retry mode and the default credential chain.
    /// <paramref name="timeToLive"/> zero reads every time (the master secret: read per new connection, rarely).
    /// </summary>
    public static SsmSecretReader Create(TimeSpan? timeToLive = null) =>
        new(new AmazonSimpleSystemsManagementClient(new AmazonSimpleSystemsManagementConfig { RetryMode = RequestRetryMode.Standard }), timeToLive);

    public async Task<string> ReadAsync(string secretId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(secretId);
        var now = _clock.GetUtcNow();
        if (_cache.TryGetValue(secretId, out var cached) && cached.Expires > now)
        {
            return cached.Value;
        }

        string value;
        try
        {
            var response = await _ssm.GetParameterAsync(new GetParameterRequest { Name = ReferencePrefix + secretId, WithDecryption = true }, cancellationToken);
            value = response.Parameter?.Value ?? throw new SecretUnavailableException($"the secret {secretId} has no string value");
        }
        catch (AmazonServiceException e)
        {
            // The SDK's message is AWS's, which never carries the value; keep only the code anyway.
            throw new SecretUnavailableException($"the secret {secretId} could not be read through SSM Parameter Store ({e.ErrorCode ?? e.StatusCode.ToString()})", e);
        }

        _cache[secretId] = (value, now + _timeToLive);
        return value;
    }
}
