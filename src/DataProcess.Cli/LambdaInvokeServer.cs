using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace DataProcess.Cli;

/// <summary>
/// The Lambda Invoke API (<c>POST /2015-03-31/functions/{name}/invocations</c>) in front of the real
/// handlers, so a Step Functions engine running on this machine (aws-local-stepfunctions, through
/// <c>AWS_ENDPOINT_URL_LAMBDA</c>) executes <c>workflow.asl.json</c> against them. A handler that
/// throws answers as Lambda does: status 200, <c>X-Amz-Function-Error: Unhandled</c> and
/// <c>{"errorType","errorMessage"}</c>, so the state machine's Retry and Catch see the same error names.
/// </summary>
internal sealed class LambdaInvokeServer : IAsyncDisposable
{
    private const string InvocationsPrefix = "/2015-03-31/functions/";
    private const string InvocationsSuffix = "/invocations";

    private readonly HttpListener _listener = new();
    private readonly IReadOnlyList<(string Suffix, Func<Stream, Task<Stream>> Handler)> _functions;
    private readonly TextWriter _log;

    /// <param name="functions">Handlers by the end of the function name (<c>-enrichment</c> answers for <c>dataprocess-dev-enrichment</c>).</param>
    public LambdaInvokeServer(IReadOnlyList<(string Suffix, Func<Stream, Task<Stream>> Handler)> functions, int port, TextWriter log)
    {
        _functions = functions;
        _log = log;
        Port = port == 0 ? FreePort() : port;
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
    }

    public int Port { get; }

    public Uri Url => new($"http://127.0.0.1:{Port}");

    /// <summary>Serves requests until <paramref name="cancellationToken"/> fires; each request on its own task.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await using var registration = cancellationToken.Register(_listener.Stop);
        var inFlight = new List<Task>();
        while (!cancellationToken.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (HttpListenerException) when (!_listener.IsListening)
            {
                break;
            }

            inFlight.RemoveAll(t => t.IsCompleted);
            inFlight.Add(Task.Run(() => AnswerAsync(context), CancellationToken.None));
        }

        await Task.WhenAll(inFlight);
    }

    public ValueTask DisposeAsync()
    {
        _listener.Close();
        return ValueTask.CompletedTask;
    }

    private async Task AnswerAsync(HttpListenerContext context)
    {
        var response = context.Response;
        try
        {
            var path = context.Request.Url?.AbsolutePath ?? string.Empty;
            if (context.Request.HttpMethod != "POST" || !path.StartsWith(InvocationsPrefix, StringComparison.Ordinal) || !path.EndsWith(InvocationsSuffix, StringComparison.Ordinal))
            {
                await WriteJsonAsync(response, 404, new Dictionary<string, string> { ["message"] = $"no such route: {context.Request.HttpMethod} {path}" }, "UnknownOperationException");
                return;
            }

            var name = FunctionName(Uri.UnescapeDataString(path[InvocationsPrefix.Length..^InvocationsSuffix.Length]));
            var handler = _functions.FirstOrDefault(f => name.EndsWith(f.Suffix, StringComparison.Ordinal)).Handler;
            if (handler is null)
            {
                await WriteJsonAsync(response, 404, new Dictionary<string, string> { ["Type"] = "User", ["message"] = $"Function not found: {name}" }, "ResourceNotFoundException");
                return;
            }

            await using var payload = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(payload);
            payload.Position = 0;
            response.AddHeader("X-Amz-Executed-Version", "$LATEST");
            try
            {
                await using var result = await handler(payload);
                response.StatusCode = 200;
                response.ContentType = "application/json";
                await result.CopyToAsync(response.OutputStream);
                await _log.WriteLineAsync($"{name}: ok");
            }
            catch (Exception e)
            {
                // What the managed runtime reports for an unhandled exception: its type name and message.
                response.AddHeader("X-Amz-Function-Error", "Unhandled");
                await WriteJsonAsync(response, 200, new Dictionary<string, string> { ["errorType"] = e.GetType().Name, ["errorMessage"] = e.Message }, null);
                await _log.WriteLineAsync($"{name}: {e.GetType().Name}: {e.Message}");
            }
        }
        finally
        {
            response.Close();
        }
    }

    /// <summary>The function name of a name, partial ARN or full ARN, without a version qualifier.</summary>
    internal static string FunctionName(string nameOrArn)
    {
        const string Marker = ":function:";
        var at = nameOrArn.IndexOf(Marker, StringComparison.Ordinal);
        var name = at >= 0 ? nameOrArn[(at + Marker.Length)..] : nameOrArn;
        var qualifier = name.IndexOf(':', StringComparison.Ordinal);
        return qualifier >= 0 ? name[..qualifier] : name;
    }

    private static async Task WriteJsonAsync(HttpListenerResponse response, int status, Dictionary<string, string> body, string? errorType)
    {
        response.StatusCode = status;
        response.ContentType = "application/json";
        if (errorType is not null)
        {
            response.AddHeader("x-amzn-ErrorType", errorType);
        }

        await JsonSerializer.SerializeAsync(response.OutputStream, body, CliJsonContext.Default.DictionaryStringString);
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
