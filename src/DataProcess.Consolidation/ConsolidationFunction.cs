using DataProcess.Aws;
using DataProcess.Core.Payloads;
using DataProcess.Core.Ports;
using DataProcess.Core.Stages;
using DataProcess.Core.Staging;

namespace DataProcess.Consolidation;

/// <summary>
/// Lambda handler <c>DataProcess.Consolidation::DataProcess.Consolidation.ConsolidationFunction::HandleAsync</c>:
/// <see cref="ConsolidationRequest"/> in, <see cref="RunSummary"/> out.
/// </summary>
public sealed class ConsolidationFunction
{
    private readonly ConsolidationStage _stage;

    /// <summary>Used by the Lambda runtime: configuration from the environment.</summary>
    public ConsolidationFunction()
        : this(AwsFunctionEnvironment.ObjectStore(), DatabaseEnvironment.Lazy())
    {
    }

    public ConsolidationFunction(IObjectStore store, IRecordSink sink) => _stage = new ConsolidationStage(store, sink);

    public async Task<Stream> HandleAsync(Stream input)
    {
        var request = await PayloadSerializer.ReadAsync(input, PayloadJsonContext.Default.ConsolidationRequest);
        var summary = await Transient.RetryableAsync(() => _stage.RunAsync(request));
        return PayloadSerializer.Write(summary, PayloadJsonContext.Default.RunSummary);
    }
}
