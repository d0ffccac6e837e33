using System.Text.Json;
using DataProcess.Aws;

namespace DataProcess.UploadUrl;

/// <summary>
/// Lambda handler <c>DataProcess.UploadUrl::DataProcess.UploadUrl.UploadUrlFunction::HandleAsync</c>:
/// an API Gateway HTTP API (payload 2.0) event in, an HTTP API response out (see <see cref="UploadApi"/>).
/// </summary>
public sealed class UploadUrlFunction
{
    private readonly UploadApi _api;

    /// <summary>Used by the Lambda runtime: configuration from the environment, S3 through the default credential chain.</summary>
    public UploadUrlFunction()
        : this(UploadSettings.FromEnvironment(Environment.GetEnvironmentVariable), S3Presigner(Environment.GetEnvironmentVariable))
    {
    }

    public UploadUrlFunction(UploadSettings settings, IUploadPresigner presigner) => _api = new UploadApi(settings, presigner);

    public Task<Stream> HandleAsync(Stream input) => HttpApiResponse.HandleAsync(input, request => _api.HandleAsync(request));

    private static S3PostPresigner S3Presigner(Func<string, string?> environment) =>
        new(S3Clients.Create(environment(AwsFunctionEnvironment.S3ServiceUrlVariable) is { Length: > 0 } url
            ? new S3Connection { ServiceUrl = new Uri(url), ForcePathStyle = true }
            : new S3Connection()));
}
