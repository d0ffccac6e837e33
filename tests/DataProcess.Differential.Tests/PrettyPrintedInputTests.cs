using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using DataProcess.Testing;
using Npgsql;
using Spectre.Console;

namespace DataProcess.Differential.Tests;

/// <summary>
/// The issue's own examples, run as a user runs them (<c>dataprocess run</c>, in process, into PostgreSQL): every
/// layout of one input loads the rows, ids and rejects of its compact copy, compared as jsonb across databases.
/// </summary>
public sealed class PrettyPrintedInputTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>, IDisposable
{
    private const string HashEmail = """{"dataset":"repro","id":"id","anonymize":{"email":"hash"}}""";

    private readonly string _directory = Directory.CreateTempSubdirectory("dp-pretty-").FullName;
    private readonly string _key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    [Fact]
    public async Task The_three_line_pretty_printed_reproduction_loads_the_rows_of_its_compact_copy()
    {
        var profile = Write("profile.json", HashEmail);

        var compact = await RunAsync(Write("compact.json", """[{"id":1,"a":{"b":1},"email":"x@y.z"}]"""), profile);
        var pretty = await RunAsync(Write("pretty.json", "[\n {\"id\": 1, \"a\": {\n   \"b\": 1\n  }, \"email\": \"x@y.z\"}\n]"), profile);

        await AssertSameLoadAsync(compact, pretty, "repro");
        compact.Rows.Should().ContainKey("1");
    }

    [Fact]
    public async Task A_pretty_printed_crlf_copy_and_an_ndjson_copy_of_the_sample_load_the_rows_and_rejects_of_the_sample()
    {
        var sample = Repository.File("samples/customers.json");
        var profileText = await File.ReadAllTextAsync(Repository.File("profiles/customers.json"));
        var profile = Write("customers.profile.json", profileText);
        var ndjsonProfile = JsonNode.Parse(profileText)!.AsObject();
        ndjsonProfile.Remove("records");
        var document = JsonNode.Parse(await File.ReadAllBytesAsync(sample))!;

        var compact = await RunAsync(sample, profile);
        var pretty = await RunAsync(WriteBytes("customers-pretty.json", Indented(document, "\r\n")), profile);
        var ndjson = await RunAsync(
            Write("customers.ndjson", string.Concat(document["result"]!.AsArray().Select(r => r!.ToJsonString(new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\r\n")) + "\r\n"),
            Write("customers-ndjson.profile.json", ndjsonProfile.ToJsonString()));

        compact.Rejects.Should().NotBeEmpty("the sample holds invalid records");
        await AssertSameLoadAsync(compact, pretty, "customers");
        await AssertSameLoadAsync(compact, ndjson, "customers");
    }

    [Fact]
    public async Task A_file_whose_first_record_is_rejected_loads_the_records_after_it()
    {
        var run = await RunAsync(Write("first.json", "[\r\n  {\"noid\": 1},\r\n  {\"id\": 2, \"email\": \"a@b.c\"}\r\n]"), Write("profile.json", HashEmail));

        run.Rows.Keys.Should().Equal("2");
        run.Rejects.Should().Equal((0L, (string?)null, "the id 'id' is missing"));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static byte[] Indented(JsonNode document, string newLine)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, NewLine = newLine, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            document.WriteTo(writer);
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The second run loaded exactly the first's rows (jsonb equality, in the second's database) and rejects.</summary>
    private static async Task AssertSameLoadAsync(Loaded expected, Loaded actual, string dataset)
    {
        actual.Rejects.Should().Equal(expected.Rejects);
        await Differential.AssertLoadedAsync(actual.Database, dataset, expected.Rows, $"{actual.Input} against {expected.Input}");
    }

    private string Write(string name, string content) => WriteBytes(name, Encoding.UTF8.GetBytes(content));

    private string WriteBytes(string name, byte[] content)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllBytes(path, content);
        return path;
    }

    /// <summary><c>dataprocess run INPUT --profile PROFILE</c> into a database of its own.</summary>
    private async Task<Loaded> RunAsync(string input, string profile)
    {
        var database = await postgres.CreateDatabaseAsync();
        var environment = new Dictionary<string, string?>
        {
            ["DATAPROCESS_DATABASE"] = database,
            ["DATAPROCESS_HMAC_KEY"] = _key,
            ["DATAPROCESS_LOCAL_DIR"] = Path.Combine(_directory, ".local"),
        };
        var output = new StringWriter(CultureInfo.InvariantCulture);
        var error = new StringWriter(CultureInfo.InvariantCulture);
        var ansi = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output), Ansi = AnsiSupport.No, Interactive = InteractionSupport.No });
        var console = new Cli.CliConsole(ansi, output, error, Interactive: false, name => environment.GetValueOrDefault(name));

        var exitCode = await Cli.DataProcessCli.RunAsync(["run", input, "--profile", profile], console, CancellationToken.None);

        exitCode.Should().Be(0, $"{Path.GetFileName(input)}: {error}");
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT dataset FROM dataprocess.runs", connection);
        var dataset = (string)(await command.ExecuteScalarAsync())!;
        await using var run = new NpgsqlCommand("SELECT run_id FROM dataprocess.runs", connection);
        var runId = (Guid)(await run.ExecuteScalarAsync())!;
        return new Loaded(Path.GetFileName(input), database, await Differential.RowsAsync(database, dataset), await Differential.RejectsAsync(database, runId));
    }

    private sealed record Loaded(string Input, string Database, Dictionary<string, string> Rows, List<(long Index, string? Id, string Reason)> Rejects);
}
