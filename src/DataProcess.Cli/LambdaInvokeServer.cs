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
/// A function given a concurrency limit (as reserved concurrency limits it in AWS) answers an
/// invocation over the limit as Lambda does: 429 <c>TooManyRequestsException</c>, the handler not run.
/// </summary>
internal sealed class LambdaInvokeServer : IAsyncDisposable
{
    private const string InvocationsPrefix = "/2015-03-31/functions/";
    private const string InvocationsSuffix = "/invocations";

    private readonly HttpListener _listener = new();
    private readonly IReadOnlyList<(string Suffix, Func<Stream, Task<Stream>> Handler)> _functions;
    private readonly TextWriter _log;
    private readonly Dictionary<string, ConcurrencyLimit> _limits;

    /// <param name="functions">Handlers by the end of the function name (<c>-enrichment</c> answers for <c>dataprocess-dev-enrichment</c>).</param>
    /// <param name="concurrency">The most invocations each function runs at once, by suffix without the dash (<c>consolidation</c>); absent means no limit.</param>
    public LambdaInvokeServer(IReadOnlyList<(string Suffix, Func<Stream, Task<Stream>> Handler)> functions, int port, TextWriter log, IReadOnlyDictionary<string, int>? concurrency = null)
    {
        _functions = functions;
        _log = log;
        _limits = new Dictionary<string, ConcurrencyLimit>(StringComparer.Ordinal);
        foreach (var (name, limit) in concurrency ?? new Dictionary<string, int>())
        {
            if (!functions.Any(f => f.Suffix == "-" + name))
            {
                throw new ArgumentException($"--concurrency {name}={limit}: there is no function named {name}; the functions are {string.Join(", ", functions.Select(f => f.Suffix[1..]))}", nameof(concurrency));
            }

            ArgumentOutOfRangeException.ThrowIfNegative(limit, nameof(concurrency));
            _limits["-" + name] = new ConcurrencyLimit(limit);
        }

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
            var (suffix, handler) = _functions.FirstOrDefault(f => name.EndsWith(f.Suffix, StringComparison.Ordinal));
            if (handler is null)
            {
                await WriteJsonAsync(response, 404, new Dictionary<string, string> { ["Type"] = "User", ["message"] = $"Function not found: {name}" }, "ResourceNotFoundException");
                return;
            }

            var limit = _limits.GetValueOrDefault(suffix);
            if (limit is not null && !limit.TryEnter())
            {
                // Lambda's answer when a function's reserved concurrency is used up (Invoke API reference, TooManyRequestsException).
                await WriteJsonAsync(response, 429, new Dictionary<string, string> { ["Reason"] = "ReservedFunctionConcurrentInvocationLimitExceeded", ["Type"] = "User", ["message"] = "Rate Exceeded." }, "TooManyRequestsException");
                await _log.WriteLineAsync($"{name}: throttled, {limit.Limit} already running");
                return;
            }

            try
            {
                await InvokeAsync(context, name, handler);
            }
            finally
            {
                limit?.Exit();
            }
        }
        finally
        {
            response.Close();
        }
    }

    private async Task InvokeAsync(HttpListenerContext context, string name, Func<Stream, Task<Stream>> handler)
    {
        var response = context.Response;
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

    /// <summary>How many invocations of one function run now, against its limit.</summary>
    private sealed class ConcurrencyLimit(int limit)
    {
        private int _running;

        public int Limit => limit;

        public bool TryEnter()
        {
            if (Interlocked.Increment(ref _running) <= limit)
            {
                return true;
            }

            Interlocked.Decrement(ref _running);
            return false;
        }

        public void Exit() => Interlocked.Decrement(ref _running);
    }
}
