using System.Text.Json;
using DataProcess.Core.Ports;
using DataProcess.Aws.HttpApi;
using DataProcess.Postgres;

namespace DataProcess.DatabaseFunctions;

/// <summary>
/// <c>GET /runs?key=KEY</c>: the latest run of an uploaded object, from the run ledger, so
/// <c>dataprocess upload --wait</c> can follow it. <c>status</c> is <c>pending</c> until the run
/// is recorded, then <c>succeeded</c>, <c>skipped</c> or <c>failed</c> (with <c>error</c>).
/// </summary>
public sealed class RunStatusApi(string bucket, string incomingPrefix, Func<string, CancellationToken, Task<RunRecord?>> latestRun)
{
    public const string Route = "/runs";

    /// <summary>Longest S3 key.</summary>
    private const int MaxKeyLength = 1024;

    public Task<HttpApiResponse> HandleAsync(JsonElement request, CancellationToken cancellationToken = default)
    {
        var method = request.TryGetProperty("requestContext", out var context) && context.TryGetProperty("http", out var http) && http.TryGetProperty("method", out var m)
            ? m.GetString() ?? string.Empty
            : string.Empty;
        var path = request.TryGetProperty("rawPath", out var p) ? (p.GetString() ?? string.Empty).TrimEnd('/') : string.Empty;
        if (!string.Equals(path, Route, StringComparison.Ordinal))
        {
            return Task.FromResult(HttpApiResponse.Problem(404, "Not Found", $"no route {path}; runs are read with GET {Route}?key=KEY"));
        }

        if (!string.Equals(method, "GET", StringComparison.OrdinalIgnoreCase))
        {
            return Task.FromResult(HttpApiResponse.Problem(405, "Method Not Allowed", $"{Route} accepts GET only", extraHeaders: new Dictionary<string, string> { ["Allow"] = "GET" }));
        }

        var key = request.TryGetProperty("queryStringParameters", out var query) && query.ValueKind == JsonValueKind.Object && query.TryGetProperty("key", out var k)
            ? k.GetString()
            : null;
        return LookupAsync(key, cancellationToken);
    }

    public async Task<HttpApiResponse> LookupAsync(string? key, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrEmpty(key))
        {
            return HttpApiResponse.Problem(400, "Bad Request", "the query parameter key is required: the key the upload response gave", "key");
        }

        if (!key.StartsWith(incomingPrefix, StringComparison.Ordinal) || key.Length > MaxKeyLength)
        {
            return HttpApiResponse.Problem(400, "Bad Request", $"key must be an upload key under {incomingPrefix}", "key");
        }

        var run = await latestRun(RunDescriptor.LedgerSource(new ObjectRef(bucket, key)), cancellationToken);
        return HttpApiResponse.Json(200, w =>
        {
            w.WriteStartObject();
            w.WriteString("key", key);
            if (run is null)
            {
                w.WriteString("status", "pending");
                w.WriteEndObject();
                return;
            }

            w.WriteString("runId", run.RunId);
            w.WriteString("dataset", run.Dataset);
            w.WriteString("status", run.Status);
            w.WriteNumber("records", run.Records);
            w.WriteNumber("rejected", run.Rejected);
            w.WriteNumber("duplicates", run.Duplicates);
            w.WriteNumber("seconds", Math.Round(run.Seconds, 2));
            if (run.Error is not null)
            {
                w.WriteString("error", run.Error);
            }

            w.WriteEndObject();
        });
    }
}
