using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using DataProcess.Aws;

using DataProcess.Local;
using DataProcess.Core.Ports;
using DataProcess.Postgres;
using DataProcess.Aws.HttpApi;
using DataProcess.Core.Payloads;
using DataProcess.DatabaseFunctions;
using DataProcess.UploadUrl;
using Npgsql;

namespace DataProcess.Cli;

/// <summary>
/// <c>dataprocess stack --profiles DIR</c>: the event-driven flow on one machine. A local S3 server
/// (s3rver) holds the buckets; every profile of DIR is copied to the staging bucket as
/// <c>profiles/&lt;dataset&gt;.json</c> (what Terraform does); the upload API (the real UploadUrl handler behind an
/// HttpListener on 127.0.0.1) hands out presigned POSTs for those datasets; each object created under
/// <c>incoming/</c> becomes a pipeline run with the profile its key names (the stand-in for EventBridge → Step
/// Functions, whose DescribeRun derives it the same way), loaded into <c>DATAPROCESS_DATABASE</c> or
/// the embedded cluster. <c>GET /runs?key=KEY</c> reports a run from the ledger (what
/// <c>upload --wait</c> polls). Ctrl-C stops the listener and the S3 server.
/// </summary>
internal static class StackCommand
{
    public const string InputBucket = "input";
    public const string StagingBucket = "staging";

    public static Command Create(CliConsole console)
    {
        var profiles = new Option<string>("--profiles") { Description = "The profiles directory: one <dataset>.json per dataset.", DefaultValueFactory = _ => "profiles" };
        var port = new Option<int>("--port") { Description = "Port of the upload API on 127.0.0.1.", DefaultValueFactory = _ => 4600 };
        var keyFile = new Option<FileInfo?>("--key-file") { Description = "The HMAC key (base64). Default: $DATAPROCESS_HMAC_KEY." };
        var maxBytes = new Option<long>("--max-bytes") { Description = "Largest upload the API presigns.", DefaultValueFactory = _ => 1L << 30 };
        var localDir = DataProcessCli.LocalDirectoryOption(console);
        var command = new Command("stack", "Run the event-driven flow locally: S3 server, upload API, a run per object created under incoming/.")
        {
            profiles, port, keyFile, maxBytes, localDir,
        };

        command.SetAction(async (parse, ct) =>
        {
            var datasets = ProfileDirectory.Load(parse.GetValue(profiles)!);
            var keys = new LocalHmacKeySource(parse.GetValue(keyFile)?.FullName, console.Environment);
            await keys.GetKeyAsync(ct);

            var directory = parse.GetValue(localDir)!;
            var connectionString = await DataProcessCli.DatabaseAsync(console, directory, ct);
            await SchemaMigrator.MigrateAsync(connectionString, ct);
            await using var sink = PostgresRecordSink.Create(connectionString);

            await using var s3 = await LocalS3Server.StartAsync(Path.Combine(directory, "s3"), [InputBucket, StagingBucket], cancellationToken: ct);
            using var client = S3Clients.Create(s3.Connection);
            var store = new S3ObjectStore(client, new S3ObjectStoreOptions { DisableChunkEncoding = true });
            foreach (var dataset in datasets)
            {
                await store.WriteAsync(new ObjectRef(StagingBucket, KeyLayout.ProfileKey(dataset.Dataset)), async (stream, token) =>
                {
                    await using var file = File.OpenRead(dataset.Path);
                    await file.CopyToAsync(stream, token);
                }, ct);
            }

            var names = datasets.Select(d => d.Dataset).ToHashSet(StringComparer.Ordinal);
            var upload = new UploadUrlFunction(new UploadSettings { Bucket = InputBucket, Datasets = names, MaxBytes = parse.GetValue(maxBytes) }, new S3PostPresigner(client));
            var url = $"http://127.0.0.1:{parse.GetValue(port).ToString(CultureInfo.InvariantCulture)}/";
            using var listener = new HttpListener();
            listener.Prefixes.Add(url);
            listener.Start();
            await console.Out.WriteLineAsync($"upload API: {url.TrimEnd('/')}");
            await console.Out.WriteLineAsync($"S3 server:  {s3.ServiceUrl} (buckets {InputBucket}, {StagingBucket}; files under {Path.GetFullPath(Path.Combine(directory, "s3"))})");
            await console.Out.WriteLineAsync($"datasets:   {string.Join(", ", names.Order(StringComparer.Ordinal))}");
            await console.Out.WriteLineAsync($"try:        dataprocess upload FILE --dataset {datasets[0].Dataset} --api {url.TrimEnd('/')} --wait    (Ctrl-C stops the stack)");

            // Ctrl-C and SIGTERM (kill, a service manager) cancel ct (Program): the stack stops, and a run in flight is
            // recorded as failed ("cancelled"), its source left under incoming/.
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            await using var ledger = NpgsqlDataSource.Create(connectionString);
            var runs = new RunStatusApi(InputBucket, KeyLayout.IncomingPrefix, (source, token) => RunLedger.LatestAsync(ledger, source, token));
            var serving = ServeAsync(listener, upload, runs, stop.Token);
            var triggering = TriggerAsync(console, s3, new StackPipeline(store, sink, keys, StagingBucket), stop.Token);
            try
            {
                await Task.Delay(Timeout.Infinite, stop.Token);
            }
            catch (OperationCanceledException)
            {
                // Ctrl-C: stop what the stack started.
            }

            await stop.CancelAsync();
            listener.Stop();
            await Task.WhenAll(serving, triggering).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await console.Out.WriteLineAsync("stack stopped");
            return DataProcessCli.Success;
        });
        return command;
    }

    /// <summary>Each object created under incoming/ of the input bucket → one run, one at a time, in order.</summary>
    private static async Task TriggerAsync(CliConsole console, LocalS3Server s3, StackPipeline pipeline, CancellationToken cancellationToken)
    {
        await foreach (var created in s3.ObjectsCreated.ReadAllAsync(cancellationToken))
        {
            if (created.Bucket != InputBucket || !created.Key.StartsWith(KeyLayout.IncomingPrefix, StringComparison.Ordinal))
            {
                continue;
            }

            try
            {
                var summary = await pipeline.RunAsync(created, cancellationToken);
                await console.Out.WriteLineAsync($"run {summary.RunId:D} {summary.Status}: {created.Key} ({summary.Records} records, {summary.Rejected} rejected, {summary.Duplicates} duplicates)");
            }
            catch (RunCancelledException e)
            {
                await console.Out.WriteLineAsync($"run {e.RunId:D} cancelled: {created.Key} (recorded as failed; the source stays under incoming/)");
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                await console.Out.WriteLineAsync($"run failed: {created.Key}: {e.Message.ReplaceLineEndings(" ")} (source moved to quarantine/)");
            }
        }
    }

    private static async Task ServeAsync(HttpListener listener, UploadUrlFunction upload, RunStatusApi runs, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync().WaitAsync(cancellationToken);
            }
            catch (Exception e) when (e is OperationCanceledException or HttpListenerException or ObjectDisposedException)
            {
                return;
            }

            _ = Task.Run(() => HandleAsync(context, upload, runs, cancellationToken), CancellationToken.None);
        }
    }

    private static async Task HandleAsync(HttpListenerContext context, UploadUrlFunction upload, RunStatusApi runs, CancellationToken cancellationToken)
    {
        var response = context.Response;
        try
        {
            HttpApiResponse result;
            var path = context.Request.Url!.AbsolutePath;
            if (path == "/runs" && context.Request.HttpMethod == "GET")
            {
                result = await runs.LookupAsync(context.Request.QueryString["key"], cancellationToken);
            }
            else
            {
                await using var output = await upload.HandleAsync(await ToEventAsync(context.Request));
                result = await HttpApiResponse.ReadAsync(output);
            }

            response.StatusCode = result.StatusCode;
            foreach (var (name, value) in result.Headers)
            {
                if (name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase))
                {
                    response.ContentType = value;
                }
                else
                {
                    response.Headers[name] = value;
                }
            }

            var body = Encoding.UTF8.GetBytes(result.Body);
            response.ContentLength64 = body.Length;
            await response.OutputStream.WriteAsync(body, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            response.StatusCode = 500;
        }
        finally
        {
            response.Close();
        }
    }

    /// <summary>The request as API Gateway would pass it to the function (HTTP API payload 2.0).</summary>
    private static async Task<Stream> ToEventAsync(HttpListenerRequest request)
    {
        using var reader = new StreamReader(request.InputStream, Encoding.UTF8);
        var body = await reader.ReadToEndAsync();
        var output = new MemoryStream();
        await using (var writer = new Utf8JsonWriter(output))
        {
            writer.WriteStartObject();
            writer.WriteString("version", "2.0");
            writer.WriteString("routeKey", "$default");
            writer.WriteString("rawPath", request.Url!.AbsolutePath);
            writer.WriteString("rawQueryString", request.Url.Query.TrimStart('?'));
            writer.WriteStartObject("requestContext");
            writer.WriteStartObject("http");
            writer.WriteString("method", request.HttpMethod);
            writer.WriteString("path", request.Url.AbsolutePath);
            writer.WriteString("sourceIp", request.RemoteEndPoint.Address.ToString());
            writer.WriteEndObject();
            writer.WriteString("stage", "$default");
            writer.WriteEndObject();
            if (body.Length > 0)
            {
                writer.WriteString("body", body);
            }

            writer.WriteBoolean("isBase64Encoded", false);
            writer.WriteEndObject();
        }

        output.Position = 0;
        return output;
    }
}
