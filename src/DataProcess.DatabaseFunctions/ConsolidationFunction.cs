using DataProcess.Aws;
using DataProcess.Core.Payloads;
using DataProcess.Core.Ports;
using DataProcess.Core.Stages;

namespace DataProcess.DatabaseFunctions;

/// <summary>
/// Lambda handler <c>DataProcess.DatabaseFunctions::DataProcess.DatabaseFunctions.ConsolidationFunction::HandleAsync</c>:
/// <see cref="ConsolidationRequest"/> in, <see cref="RunSummary"/> out.
/// </summary>
public sealed class ConsolidationFunction
{
    private readonly ConsolidationStage _stage;

    /// <summary>Used by the Lambda runtime: configuration from the environment.</summary>
    public ConsolidationFunction()
        : this(S3Environment.ObjectStore(), FunctionDatabase.Sink())
    {
    }

    public ConsolidationFunction(IObjectStore store, IRecordSink sink) => _stage = new ConsolidationStage(store, sink);

    public async Task<Stream> HandleAsync(Stream input)
    {
        var request = await PayloadSerializer.ReadAsync(input, PayloadJsonContext.Default.ConsolidationRequest);
        var summary = await DatabaseOutages.ReportAsUnavailableAsync(() => _stage.RunAsync(request));
        return PayloadSerializer.Write(summary, PayloadJsonContext.Default.RunSummary);
    }
}
