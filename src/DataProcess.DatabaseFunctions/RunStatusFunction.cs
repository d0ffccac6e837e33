using System.Text.Json;
using DataProcess.Aws.HttpApi;
using DataProcess.Core.Payloads;
using DataProcess.Postgres;

namespace DataProcess.DatabaseFunctions;

/// <summary>
/// Lambda handler <c>DataProcess.DatabaseFunctions::DataProcess.DatabaseFunctions.RunStatusFunction::HandleAsync</c>:
/// <c>GET /runs?key=</c> on the HTTP API (payload 2.0), answered from the run ledger (see
/// <see cref="RunStatusApi"/>). It runs in the private subnets, next to the database.
/// </summary>
public sealed class RunStatusFunction
{
    public const string InputBucketVariable = "DATAPROCESS_INPUT_BUCKET";

    private readonly RunStatusApi _api;

    /// <summary>Used by the Lambda runtime: the input bucket and the database from the environment.</summary>
    public RunStatusFunction()
        : this(new RunStatusApi(
            Environment.GetEnvironmentVariable(InputBucketVariable) is { Length: > 0 } bucket ? bucket : throw new InvalidOperationException($"the environment variable {InputBucketVariable} is not set"),
            KeyLayout.IncomingPrefix,
            async (source, ct) => await RunLedger.LatestAsync(await FunctionDatabase.DataSourceAsync(), source, ct)))
    {
    }

    public RunStatusFunction(RunStatusApi api) => _api = api;

    public Task<Stream> HandleAsync(Stream input) => HttpApiResponse.HandleAsync(input, request => _api.HandleAsync(request));
}
