using DataProcess.Aws;
using DataProcess.Core.Payloads;
using DataProcess.Core.Ports;
using DataProcess.Core.Stages;
using DataProcess.Core.Staging;

namespace DataProcess.Consolidation;

/// <summary>
/// Lambda handler <c>DataProcess.Consolidation::DataProcess.Consolidation.RunFailureFunction::HandleAsync</c>,
/// the state machine's Catch path: <see cref="RunFailure"/> in, <see cref="FailureRecorded"/> out.
/// </summary>
public sealed class RunFailureFunction
{
    private readonly FailureStage _stage;

    /// <summary>Used by the Lambda runtime: records the failure and quarantines the source.</summary>
    public RunFailureFunction()
        : this(AwsFunctionEnvironment.ObjectStore(), DatabaseEnvironment.Lazy(), quarantine: true)
    {
    }

    public RunFailureFunction(IObjectStore store, IRecordSink sink, bool quarantine) => _stage = new FailureStage(store, sink, quarantine);

    public async Task<Stream> HandleAsync(Stream input)
    {
        var failure = await PayloadSerializer.ReadAsync(input, PayloadJsonContext.Default.RunFailure);
        var recorded = await Transient.RetryableAsync(() => _stage.RunAsync(failure));
        return PayloadSerializer.Write(recorded, PayloadJsonContext.Default.FailureRecorded);
    }
}
