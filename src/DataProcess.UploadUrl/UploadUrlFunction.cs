using DataProcess.Aws;
using DataProcess.Aws.HttpApi;

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
        : this(UploadSettings.FromEnvironment(Environment.GetEnvironmentVariable), new S3PostPresigner(S3Environment.Client()))
    {
    }

    public UploadUrlFunction(UploadSettings settings, IUploadPresigner presigner) => _api = new UploadApi(settings, presigner);

    public Task<Stream> HandleAsync(Stream input) => HttpApiResponse.HandleAsync(input, request => _api.HandleAsync(request));
}
