using System.Diagnostics;
using System.Text.Json;
using Amazon.S3;
using DataProcess.Aws;
using DataProcess.Local;

namespace DataProcess.Testing;

/// <summary>
/// A local S3 as strict as S3 is with one deployed function's role: a missing key answers 403 unless
/// the role may <c>s3:ListBucket</c> under its prefix. The grants are read from the Terraform
/// (<c>tools/s3-list-grants.mjs</c>), so a test runs against what the stack would deploy.
/// </summary>
public sealed class StrictS3 : IAsyncDisposable
{
    private readonly string _directory;

    private StrictS3(LocalS3Server server, string directory, IReadOnlyList<(string Bucket, string Prefix)> grants)
    {
        Server = server;
        _directory = directory;
        Grants = grants;
    }

    public LocalS3Server Server { get; }

    /// <summary>Where the role may list.</summary>
    public IReadOnlyList<(string Bucket, string Prefix)> Grants { get; }

    /// <summary>The strict server for <paramref name="function"/>'s role (a key of Terraform's <c>local.functions</c>), with the buckets <c>input</c> and <c>staging</c>.</summary>
    /// <param name="without">Grants to leave out, as if the role lacked that statement.</param>
    public static async Task<StrictS3> ForFunctionAsync(string function, params (string Bucket, string Prefix)[] without)
    {
        var grants = (await GrantsOfAsync(function)).Except(without).ToList();
        var directory = Directory.CreateTempSubdirectory("dp-strict-s3-").FullName;
        var server = await LocalS3Server.StartAsync(directory, ["input", "staging"], toolsDirectory: Repository.File("tools"), strictListGrants: grants);
        return new StrictS3(server, directory, grants);
    }

    /// <summary>Where <paramref name="function"/>'s role may call s3:ListBucket, read from the .tf files.</summary>
    public static async Task<IReadOnlyList<(string Bucket, string Prefix)>> GrantsOfAsync(string function)
    {
        var start = new ProcessStartInfo("node")
        {
            ArgumentList = { Repository.File("tools/s3-list-grants.mjs"), function },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Repository.Root,
        };
        using var node = Process.Start(start)!;
        var output = await node.StandardOutput.ReadToEndAsync();
        var error = await node.StandardError.ReadToEndAsync();
        await node.WaitForExitAsync();
        if (node.ExitCode != 0)
        {
            throw new InvalidOperationException($"s3-list-grants.mjs {function}: {error.Trim()}");
        }

        using var grants = JsonDocument.Parse(output);
        return grants.RootElement.EnumerateArray().Select(g => (g.GetProperty("bucket").GetString()!, g.GetProperty("prefix").GetString()!)).ToList();
    }

    public S3ObjectStore Store() =>
        new(Client(), new S3ObjectStoreOptions { DisableChunkEncoding = true });

    public AmazonS3Client Client() => S3Clients.Create(Server.Connection);

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }
}
