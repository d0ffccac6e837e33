using DataProcess.Aws;
using DataProcess.Aws.Secrets;
using DataProcess.Core.Payloads;
using DataProcess.Core.Ports;
using DataProcess.Core.Stages;

namespace DataProcess.DatabaseFunctions;

/// <summary>
/// Lambda handler <c>DataProcess.DatabaseFunctions::DataProcess.DatabaseFunctions.ReplayCheckFunction::HandleAsync</c>,
/// the state machine's first task: <see cref="StageRequest"/> in, <see cref="ReplayCheck"/> out.
/// </summary>
public sealed class ReplayCheckFunction
{
    private readonly ReplayCheckStage _stage;

    /// <summary>
    /// Used by the Lambda runtime: configuration from the environment. The HMAC key is read only for its
    /// fingerprint, part of the run's identity.
    /// </summary>
    public ReplayCheckFunction()
        : this(S3Environment.ObjectStore(), FunctionDatabase.Sink(), SecretsManagerHmacKeySource.FromEnvironment())
    {
    }

    public ReplayCheckFunction(IObjectStore store, IRecordSink sink, IHmacKeySource keys) => _stage = new ReplayCheckStage(store, sink, keys);

    public async Task<Stream> HandleAsync(Stream input)
    {
        var request = await PayloadSerializer.ReadAsync(input, PayloadJsonContext.Default.StageRequest);
        var check = await DatabaseOutages.ReportAsUnavailableAsync(() => _stage.RunAsync(request));
        return PayloadSerializer.Write(check, PayloadJsonContext.Default.ReplayCheck);
    }
}
