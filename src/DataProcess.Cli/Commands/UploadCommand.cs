using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Spectre.Console;

namespace DataProcess.Cli;

/// <summary>
/// <c>dataprocess upload FILE --dataset NAME --api URL [--wait]</c>: asks the upload API for a presigned POST
/// (<c>POST URL/uploads</c>, SigV4-signed for API Gateway's AWS_IAM authorization with credentials
/// from the normal AWS chain; unsigned for a loopback URL or with <c>--no-sign</c>), uploads the file
/// to S3 with that form (progress bar on a terminal) and prints the key. <c>--wait</c> polls
/// <c>GET URL/runs?key=KEY</c> until the run ended and prints its summary (the local stack serves that
/// route from the run ledger; the deployed API does not have it yet — see docs/upload.md).
/// </summary>
internal static partial class UploadCommand
{
    public static Command Create(CliConsole console)
    {
        var file = new Argument<FileInfo>("FILE") { Description = "The JSON or NDJSON file to upload (.json, .ndjson, .jsonl)." };
        var dataset = new Option<string>("--dataset", "-d") { Description = "The dataset the file belongs to: the name of one of the stack's profiles (profiles/<dataset>.json).", Required = true };
        var api = new Option<string>("--api") { Description = "Base URL of the upload API (Terraform output upload_api_url, or what `dataprocess stack` prints).", Required = true };
        var wait = new Option<bool>("--wait") { Description = "Follow the run until it ends and print its summary." };
        var noSign = new Option<bool>("--no-sign") { Description = "Do not SigV4-sign the API call (JWT or local APIs)." };
        var region = new Option<string?>("--region") { Description = "Region to sign for. Default: from the API host name, else AWS_REGION." };
        var timeout = new Option<int>("--wait-timeout") { Description = "Seconds --wait waits for the run.", DefaultValueFactory = _ => 900 };
        var command = new Command("upload", "Upload a file through the upload API (presigned S3 POST); --wait follows its run.")
        {
            file, dataset, api, wait, noSign, region, timeout,
        };

        command.SetAction(async (parse, ct) =>
        {
            var input = parse.GetValue(file)!;
            if (!input.Exists)
            {
                throw new FileNotFoundException($"{input.FullName}: no such file");
            }

            var apiText = parse.GetValue(api)!;
            if (!Uri.TryCreate(apiText.EndsWith('/') ? apiText : apiText + "/", UriKind.Absolute, out var baseUrl) || baseUrl.Scheme is not ("http" or "https"))
            {
                throw new ArgumentException($"--api {apiText}: not an http(s) URL");
            }

            var sign = !parse.GetValue(noSign) && !baseUrl.IsLoopback;
            using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
            var signer = sign ? await ApiSigner.CreateAsync(baseUrl, parse.GetValue(region) ?? console.Environment("AWS_REGION") ?? console.Environment("AWS_DEFAULT_REGION")) : null;

            var contentType = input.Extension.Equals(".json", StringComparison.OrdinalIgnoreCase) ? "application/json" : "application/x-ndjson";
            var request = JsonSerializer.Serialize(new Dictionary<string, object> { ["dataset"] = parse.GetValue(dataset)!, ["fileName"] = input.Name, ["contentType"] = contentType, ["size"] = input.Length });
            using var ask = new HttpRequestMessage(HttpMethod.Post, new Uri(baseUrl, "uploads")) { Content = new StringContent(request, Encoding.UTF8, "application/json") };
            signer?.Sign(ask, request);
            using var answer = await http.SendAsync(ask, ct);
            var answerBody = await answer.Content.ReadAsStringAsync(ct);
            if (answer.StatusCode != HttpStatusCode.Created)
            {
                throw new InvalidOperationException($"the upload API refused the upload ({(int)answer.StatusCode}): {Detail(answerBody)}");
            }

            using var presigned = JsonDocument.Parse(answerBody);
            var root = presigned.RootElement;
            var key = root.GetProperty("key").GetString()!;
            await PostFileAsync(console, http, root, input, ct);
            await console.Out.WriteLineAsync(key);

            if (!parse.GetValue(wait))
            {
                return DataProcessCli.Success;
            }

            return await WaitAsync(console, http, signer, baseUrl, key, TimeSpan.FromSeconds(parse.GetValue(timeout)), ct);
        });
        return command;
    }

    /// <summary>The browser-style POST to S3: the signed fields first, the file last.</summary>
    private static async Task PostFileAsync(CliConsole console, HttpClient http, JsonElement presigned, FileInfo input, CancellationToken cancellationToken)
    {
        using var form = new MultipartFormDataContent();
        foreach (var field in presigned.GetProperty("fields").EnumerateObject())
        {
            var content = new ByteArrayContent(Encoding.UTF8.GetBytes(field.Value.GetString() ?? string.Empty));
            form.Add(content, field.Name);
        }

        await using var stream = new FileStream(input.FullName, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.Asynchronous | FileOptions.SequentialScan);
        var progress = new ProgressStream(stream);
        var fileContent = new StreamContent(progress, 1 << 20);
        fileContent.Headers.ContentType = new MediaTypeHeaderValue(presigned.GetProperty("contentType").GetString()!);
        form.Add(fileContent, "file", input.Name);

        using var post = new HttpRequestMessage(HttpMethod.Post, presigned.GetProperty("url").GetString()) { Content = form };
        async Task<HttpResponseMessage> SendAsync() => await http.SendAsync(post, cancellationToken);
        HttpResponseMessage response;
        if (console.Interactive)
        {
            response = await console.Ansi.Progress().AutoClear(true).StartAsync(async context =>
            {
                var task = context.AddTask($"uploading {input.Name}", maxValue: input.Length);
                var sending = SendAsync();
                while (!sending.IsCompleted)
                {
                    task.Value = progress.BytesRead;
                    await Task.WhenAny(sending, Task.Delay(100, cancellationToken));
                }

                task.Value = input.Length;
                return await sending;
            });
        }
        else
        {
            response = await SendAsync();
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                var body = await response.Content.ReadAsStringAsync(cancellationToken);
                throw new InvalidOperationException($"S3 refused the upload ({(int)response.StatusCode}): {S3Error(body)}");
            }
        }
    }

    private static async Task<int> WaitAsync(CliConsole console, HttpClient http, ApiSigner? signer, Uri baseUrl, string key, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTimeOffset.UtcNow + timeout;
        var url = new Uri(baseUrl, "runs?key=" + Uri.EscapeDataString(key));
        while (true)
        {
            using var ask = new HttpRequestMessage(HttpMethod.Get, url);
            signer?.Sign(ask, string.Empty);
            using var response = await http.SendAsync(ask, cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed or HttpStatusCode.Forbidden)
            {
                throw new InvalidOperationException($"the API at {baseUrl} has no GET /runs route ({(int)response.StatusCode}), so --wait cannot follow the run; the upload itself succeeded");
            }

            response.EnsureSuccessStatusCode();
            using var run = JsonDocument.Parse(body);
            var status = run.RootElement.GetProperty("status").GetString();
            if (status != "pending")
            {
                var r = run.RootElement;
                string Text(string name) => r.TryGetProperty(name, out var v) ? v.ValueKind == JsonValueKind.Number ? v.GetRawText() : v.GetString() ?? string.Empty : string.Empty;
                foreach (var (name, value) in new[] { ("run", Text("runId")), ("status", status!), ("dataset", Text("dataset")), ("records", Text("records")), ("rejected", Text("rejected")), ("duplicates", Text("duplicates")), ("seconds", Text("seconds")), ("source", key) })
                {
                    await console.Out.WriteLineAsync($"{name + ":",-12}{value}");
                }

                if (status == "failed")
                {
                    await console.Error.WriteLineAsync($"error: the run failed: {Text("error")}");
                    return DataProcessCli.Failed;
                }

                return DataProcessCli.Success;
            }

            if (DateTimeOffset.UtcNow > deadline)
            {
                throw new TimeoutException($"the run of {key} did not end within {timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} seconds");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
        }
    }

    private static string Detail(string body)
    {
        try
        {
            using var problem = JsonDocument.Parse(body);
            var root = problem.RootElement;
            if (root.TryGetProperty("detail", out var detail))
            {
                return root.TryGetProperty("field", out var field) ? $"{field.GetString()}: {detail.GetString()}" : detail.GetString() ?? body;
            }

            return root.TryGetProperty("message", out var message) ? message.GetString() ?? body : body;
        }
        catch (JsonException)
        {
            return body.Length > 300 ? body[..300] : body;
        }
    }

    private static string S3Error(string body)
    {
        var code = S3Code().Match(body);
        var message = S3Message().Match(body);
        return code.Success ? $"{code.Groups[1].Value}: {(message.Success ? message.Groups[1].Value : string.Empty)}" : body;
    }

    [GeneratedRegex("<Code>([^<]*)</Code>")]
    private static partial Regex S3Code();

    [GeneratedRegex("<Message>([^<]*)</Message>")]
    private static partial Regex S3Message();

    /// <summary>Counts what the HTTP client has read from the file.</summary>
    private sealed class ProgressStream(Stream inner) : Stream
    {
        private long _read;

        public long BytesRead => Interlocked.Read(ref _read);

        public override bool CanRead => true;

        public override bool CanSeek => inner.CanSeek;

        public override bool CanWrite => false;

        public override long Length => inner.Length;

        public override long Position
        {
            get => inner.Position;
            set => inner.Position = value;
        }

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => Count(await inner.ReadAsync(buffer, cancellationToken));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        private int Count(int n)
        {
            Interlocked.Add(ref _read, n);
            return n;
        }
    }
}
