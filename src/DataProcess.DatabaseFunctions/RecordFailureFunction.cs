using DataProcess.Aws;
using DataProcess.Core.Payloads;
using DataProcess.Core.Ports;
using DataProcess.Core.Stages;

namespace DataProcess.DatabaseFunctions;

/// <summary>
/// Lambda handler <c>DataProcess.DatabaseFunctions::DataProcess.DatabaseFunctions.RecordFailureFunction::HandleAsync</c>,
/// the state machine's Catch path: <see cref="RunFailure"/> in, <see cref="FailureRecorded"/> out.
/// </summary>
public sealed class RecordFailureFunction
{
    private readonly FailureStage _stage;

    /// <summary>Used by the Lambda runtime: records the failure and quarantines the source.</summary>
    public RecordFailureFunction()
        : this(S3Environment.ObjectStore(), FunctionDatabase.Sink(), quarantine: true)
    {
    }

    public RecordFailureFunction(IObjectStore store, IRecordSink sink, bool quarantine) => _stage = new FailureStage(store, sink, quarantine);

    public async Task<Stream> HandleAsync(Stream input)
    {
        var failure = await PayloadSerializer.ReadAsync(input, PayloadJsonContext.Default.RunFailure);
        var recorded = await DatabaseOutages.ReportAsUnavailableAsync(() => _stage.RunAsync(failure));
        return PayloadSerializer.Write(recorded, PayloadJsonContext.Default.FailureRecorded);
    }
}
