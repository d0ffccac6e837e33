using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Threading.Channels;
using Amazon.Runtime;
using DataProcess.Aws;
using DataProcess.Core.Ports;

namespace DataProcess.Local;

/// <summary>
/// A local S3-compatible server for the local stack and the tests: s3rver (npm, in <c>tools/</c>) run by
/// <c>tools/local-s3.mjs</c> on 127.0.0.1 and an ephemeral port. Object-created events arrive on
/// <see cref="ObjectsCreated"/> — the local stand-in for S3 → EventBridge. s3rver accepts any access
/// key pair it knows (<see cref="AccessKey"/>) and does NOT verify SigV4 signatures or POST policies;
/// it does check the expiry of presigned query-string URLs. Disposing stops the server (its stdin
/// closes; it is killed if it lingers).
/// </summary>
public sealed class LocalS3Server : IAsyncDisposable
{
    /// <summary>s3rver's built-in account.</summary>
    public const string AccessKey = "S3RVER";

    private readonly Process _process;
    private readonly Channel<ObjectRef> _created = Channel.CreateUnbounded<ObjectRef>();
    private readonly Task _reader;

    private LocalS3Server(Process process, Uri serviceUrl, string directory)
    {
        _process = process;
        ServiceUrl = serviceUrl;
        Directory = directory;
        _reader = Task.Run(ReadEventsAsync);
    }

    public Uri ServiceUrl { get; }

    /// <summary>Where s3rver keeps the buckets.</summary>
    public string Directory { get; }

    /// <summary>Every object created (PUT, POST, copy, completed multipart upload), in order.</summary>
    public ChannelReader<ObjectRef> ObjectsCreated => _created.Reader;

    public S3Connection Connection => new()
    {
        ServiceUrl = ServiceUrl,
        ForcePathStyle = true,
        Credentials = new BasicAWSCredentials(AccessKey, AccessKey),
        Region = "us-east-1",
    };

    /// <summary>Starts s3rver on <paramref name="directory"/> with <paramref name="buckets"/> created.</summary>
    /// <param name="strictListGrants">
    /// Non-null: answer a missing key 403 AccessDenied, as S3 answers a caller without <c>s3:ListBucket</c>,
    /// except under these (bucket, prefix) grants, where it stays 404 (<c>tools/s3-list-grants.mjs</c> reads a
    /// deployed function's grants from the Terraform).
    /// </param>
    public static async Task<LocalS3Server> StartAsync(string directory, IEnumerable<string> buckets, int port = 0, string? toolsDirectory = null, IEnumerable<(string Bucket, string Prefix)>? strictListGrants = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(buckets);
        var tools = toolsDirectory ?? FindToolsDirectory();
        var script = Path.Combine(tools, "local-s3.mjs");
        if (!System.IO.Directory.Exists(Path.Combine(tools, "node_modules", "s3rver")))
        {
            throw new InvalidOperationException($"s3rver is not installed in {tools}: run `make tools` (npm ci in tools/)");
        }

        System.IO.Directory.CreateDirectory(directory);
        var startInfo = new ProcessStartInfo("node")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = tools,
        };
        foreach (var argument in (string[])[script, "--directory", Path.GetFullPath(directory), "--port", port.ToString(CultureInfo.InvariantCulture)])
        {
            startInfo.ArgumentList.Add(argument);
        }

        foreach (var bucket in buckets)
        {
            startInfo.ArgumentList.Add("--bucket");
            startInfo.ArgumentList.Add(bucket);
        }

        if (strictListGrants is not null)
        {
            startInfo.ArgumentList.Add("--strict");
            foreach (var (bucket, prefix) in strictListGrants)
            {
                startInfo.ArgumentList.Add("--list");
                startInfo.ArgumentList.Add($"{bucket}/{prefix}");
            }
        }

        Process process;
        try
        {
            process = Process.Start(startInfo) ?? throw new InvalidOperationException("node did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"cannot start node (needed for the local S3 server): {e.Message}", e);
        }

        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(30));
            var line = await process.StandardOutput.ReadLineAsync(timeout.Token);
            if (line is null)
            {
                var error = await process.StandardError.ReadToEndAsync(timeout.Token);
                throw new InvalidOperationException($"the local S3 server exited: {error.Trim()}");
            }

            using var document = JsonDocument.Parse(line);
            var listening = document.RootElement.GetProperty("listening");
            var url = new Uri($"http://{listening.GetProperty("address").GetString()}:{listening.GetProperty("port").GetInt32()}/");
            _ = DrainAsync(process.StandardError);
            return new LocalS3Server(process, url, directory);
        }
        catch
        {
            Kill(process);
            process.Dispose();
            throw;
        }
    }

    /// <summary><c>tools/</c> of the repository: above the current directory or above this assembly.</summary>
    public static string FindToolsDirectory()
    {
        foreach (var start in new[] { System.IO.Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                var tools = Path.Combine(directory.FullName, "tools");
                if (File.Exists(Path.Combine(tools, "local-s3.mjs")))
                {
                    return tools;
                }
            }
        }

        throw new InvalidOperationException("no tools/local-s3.mjs above the current directory: run from the repository");
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            _process.StandardInput.Close();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or InvalidOperationException)
        {
            Kill(_process);
        }

        await _reader.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _process.Dispose();
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
    }

    private static async Task DrainAsync(StreamReader reader)
    {
        try
        {
            while (await reader.ReadLineAsync() is not null)
            {
            }
        }
        catch (IOException)
        {
        }
    }

    private async Task ReadEventsAsync()
    {
        try
        {
            while (await _process.StandardOutput.ReadLineAsync() is { } line)
            {
                using var document = JsonDocument.Parse(line);
                if (!document.RootElement.TryGetProperty("event", out var e) || !e.TryGetProperty("Records", out var records))
                {
                    continue;
                }

                foreach (var record in records.EnumerateArray())
                {
                    if (record.GetProperty("eventName").GetString() is { } name && name.StartsWith("ObjectCreated:", StringComparison.Ordinal))
                    {
                        var s3 = record.GetProperty("s3");
                        await _created.Writer.WriteAsync(new ObjectRef(s3.GetProperty("bucket").GetProperty("name").GetString()!, s3.GetProperty("object").GetProperty("key").GetString()!));
                    }
                }
            }
        }
        catch (Exception e) when (e is IOException or JsonException or ObjectDisposedException)
        {
            // the server went away
        }
        finally
        {
            _created.Writer.TryComplete();
        }
    }
}
