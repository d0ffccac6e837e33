using DataProcess.Aws;
using DataProcess.Core.Payloads;
using DataProcess.Core.Ports;
using DataProcess.Core.Stages;

namespace DataProcess.Enrichment;

/// <summary>
/// Lambda handler <c>DataProcess.Enrichment::DataProcess.Enrichment.EnrichmentFunction::HandleAsync</c>:
/// <see cref="StageRequest"/> in, <see cref="StageResult"/> out.
/// </summary>
public sealed class EnrichmentFunction
{
    private readonly EnrichmentStage _stage;

    /// <summary>Used by the Lambda runtime: configuration from the environment.</summary>
    public EnrichmentFunction()
        : this(S3Environment.ObjectStore())
    {
    }

    public EnrichmentFunction(IObjectStore store) => _stage = new EnrichmentStage(store);

    public async Task<Stream> HandleAsync(Stream input)
    {
        var request = await PayloadSerializer.ReadAsync(input, PayloadJsonContext.Default.StageRequest);
        var result = await _stage.RunAsync(request);
        return PayloadSerializer.Write(result, PayloadJsonContext.Default.StageResult);
    }
}
