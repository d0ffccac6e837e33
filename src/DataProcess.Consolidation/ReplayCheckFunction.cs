using DataProcess.Aws;
using DataProcess.Core.Payloads;
using DataProcess.Core.Ports;
using DataProcess.Core.Staging;

namespace DataProcess.Consolidation;

/// <summary>
/// Lambda handler <c>DataProcess.Consolidation::DataProcess.Consolidation.ReplayCheckFunction::HandleAsync</c>,
/// the state machine's first task: <see cref="StageRequest"/> in, <see cref="ReplayCheck"/> out.
/// </summary>
public sealed class ReplayCheckFunction
{
    private readonly ReplayCheckStage _stage;

    /// <summary>Used by the Lambda runtime: configuration from the environment.</summary>
    public ReplayCheckFunction()
        : this(AwsFunctionEnvironment.ObjectStore(), DatabaseEnvironment.Lazy())
    {
    }

    public ReplayCheckFunction(IObjectStore store, IRecordSink sink) => _stage = new ReplayCheckStage(store, sink);

    public async Task<Stream> HandleAsync(Stream input)
    {
        var request = await PayloadSerializer.ReadAsync(input, PayloadJsonContext.Default.StageRequest);
        var check = await Transient.RetryableAsync(() => _stage.RunAsync(request));
        return PayloadSerializer.Write(check, PayloadJsonContext.Default.ReplayCheck);
    }
}
