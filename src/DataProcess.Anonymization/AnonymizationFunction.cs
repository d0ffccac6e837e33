using DataProcess.Aws;
using DataProcess.Aws.Secrets;
using DataProcess.Core.Payloads;
using DataProcess.Core.Ports;
using DataProcess.Core.Stages;

namespace DataProcess.Anonymization;

/// <summary>
/// Lambda handler <c>DataProcess.Anonymization::DataProcess.Anonymization.AnonymizationFunction::HandleAsync</c>:
/// <see cref="StageRequest"/> in, <see cref="StageResult"/> out.
/// </summary>
public sealed class AnonymizationFunction
{
    private readonly AnonymizationStage _stage;

    /// <summary>Used by the Lambda runtime: configuration from the environment.</summary>
    public AnonymizationFunction()
        : this(S3Environment.ObjectStore(), SecretsManagerHmacKeySource.FromEnvironment())
    {
    }

    public AnonymizationFunction(IObjectStore store, IHmacKeySource keys) => _stage = new AnonymizationStage(store, keys);

    public async Task<Stream> HandleAsync(Stream input)
    {
        var request = await PayloadSerializer.ReadAsync(input, PayloadJsonContext.Default.StageRequest);
        var result = await _stage.RunAsync(request);
        return PayloadSerializer.Write(result, PayloadJsonContext.Default.StageResult);
    }
}
