using System.Text;
using System.Text.RegularExpressions;
using DataProcess.Testing;

namespace DataProcess.Reliability.Tests;

/// <summary>
/// Matrix section 1: a malformed file fails the whole run. Each cell runs <c>dataprocess run</c> in-process and
/// checks the same promise: exit 1, exactly one <c>error:</c> line naming the file and where (line/column or
/// byte offset), no record of the run in <c>dataprocess.records</c>, and one <c>failed</c> ledger row with the reason.
/// </summary>
public sealed partial class MalformedFileTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>, IDisposable
{
    private const string Good = """{"id":1,"email":"a@example.org"}""";
    private readonly CliHarness _cli = new();

    [Fact]
    public Task An_empty_file_fails_the_run() => AssertContentRefusedAsync("empty.json", "", "the file is empty");

    [Fact]
    public Task A_file_of_whitespace_only_fails_the_run() => AssertContentRefusedAsync("blank.json", "  \n\t\r\n  ", "the file contains only whitespace");

    [Fact]
    public Task A_file_truncated_inside_a_string_fails_the_run() =>
        AssertContentRefusedAsync("cut-string.json", $"[{Good},\n{{\"id\":2,\"email\":\"b@exam", "the file looks truncated");

    [Fact]
    public Task A_file_truncated_inside_a_number_fails_the_run() =>
        AssertContentRefusedAsync("cut-number.json", $"[{Good},\n{{\"id\":12", "the file looks truncated");

    [Fact]
    public Task A_file_truncated_inside_an_object_fails_the_run() =>
        AssertContentRefusedAsync("cut-object.json", $"[{Good},\n{{\"id\":2,\"address\":{{\"city\":\"X\"}}", "the file looks truncated");

    [Fact]
    public Task A_file_truncated_inside_the_records_array_fails_the_run() =>
        AssertContentRefusedAsync("cut-array.json", $"[{Good},\n{Good.Replace("1", "2", StringComparison.Ordinal)}", "the file looks truncated");

    [Fact]
    public Task Trailing_garbage_after_the_top_level_value_fails_the_run() =>
        AssertContentRefusedAsync("trailing.json", $"[{Good}]\n]garbage", "line 2, column 1");

    [Fact]
    public Task A_second_top_level_value_after_the_records_fails_the_run() =>
        AssertContentRefusedAsync("two-values.json", $"[{Good}]\n[{Good}]", "line 2");

    [Fact]
    public Task An_unclosed_string_fails_the_run() =>
        AssertContentRefusedAsync("unclosed.json", $"[{Good},\n{{\"id\":2,\"email\":\"b@example.org}},\n{Good}]", "line 2");

    [Fact]
    public Task An_invalid_escape_fails_the_run() =>
        AssertContentRefusedAsync("escape.json", $"[{Good},\n{{\"id\":2,\"email\":\"b\\q@example.org\"}}]", "line 2");

    [Fact]
    public Task Invalid_utf8_fails_the_run() =>
        AssertContentRefusedAsync("latin1.json", Encoding.UTF8.GetBytes($"[{Good},\n{{\"id\":2,\"name\":\"Ren")
            .Concat(new byte[] { 0xE9, 0x28 })
            .Concat(Encoding.UTF8.GetBytes("\",\"email\":\"b@example.org\"}]")).ToArray(), "invalid UTF-8 in record 1 at byte offset");

    [Fact]
    public Task NaN_fails_the_run() => AssertContentRefusedAsync("nan.json", $"[{Good},\n{{\"id\":2,\"email\":\"b@example.org\",\"score\":NaN}}]", "line 2");

    [Fact]
    public Task Infinity_fails_the_run() => AssertContentRefusedAsync("infinity.json", $"[{Good},\n{{\"id\":2,\"email\":\"b@example.org\",\"score\":-Infinity}}]", "line 2");

    [Fact]
    public Task A_number_with_leading_zeros_fails_the_run() => AssertContentRefusedAsync("zeros.json", $"[{Good},\n{{\"id\":007,\"email\":\"b@example.org\"}}]", "line 2");

    [Fact]
    public Task Single_quotes_fail_the_run() => AssertContentRefusedAsync("quotes.json", $"[{Good},\n{{'id':2,'email':'b@example.org'}}]", "line 2, column 2");

    [Fact]
    public Task A_line_comment_fails_the_run() => AssertContentRefusedAsync("comment.json", $"[{Good}, // the first customer\n{Good}]", "line 1");

    [Fact]
    public Task A_block_comment_fails_the_run() => AssertContentRefusedAsync("block-comment.json", $"[{Good},\n/* more */ {Good}]", "line 2, column 1");

    [Fact]
    public Task A_raw_control_character_in_a_string_fails_the_run() =>
        AssertContentRefusedAsync("control.json", $"[{Good},\n{{\"id\":2,\"email\":\"b\u0001@example.org\"}}]", "line 2");

    [Fact]
    public Task A_raw_tab_in_a_string_fails_the_run() =>
        AssertContentRefusedAsync("tab.json", $"[{Good},\n{{\"id\":2,\"name\":\"a\tb\",\"email\":\"b@example.org\"}}]", "line 2");

    [Fact]
    public async Task Nesting_100000_levels_deep_fails_the_run_without_a_stack_overflow()
    {
        const int depth = 100_000;
        var input = await _cli.StreamedFileAsync("deep.json", async stream =>
        {
            await stream.WriteAsync(Encoding.UTF8.GetBytes($"[{Good},\n{{\"id\":2,\"email\":\"b@example.org\",\"x\":"));
            await stream.WriteAsync(Enumerable.Repeat((byte)'[', depth).ToArray());
            await stream.WriteAsync(Enumerable.Repeat((byte)']', depth).ToArray());
            await stream.WriteAsync("}]"u8.ToArray());
        });

        await AssertRefusedAsync(input, "maximum configured depth of 64");
    }

    [Fact]
    public async Task A_100_MB_single_string_fails_the_run_at_the_record_limit()
    {
        var input = await _cli.StreamedFileAsync("huge-string.json", async stream =>
        {
            await stream.WriteAsync(Encoding.UTF8.GetBytes($"[{Good},\n{{\"id\":2,\"email\":\"b@example.org\",\"notes\":\""));
            var chunk = Enumerable.Repeat((byte)'a', 1 << 20).ToArray();
            for (var i = 0; i < 100; i++)
            {
                await stream.WriteAsync(chunk);
            }

            await stream.WriteAsync("\"}]"u8.ToArray());
        });

        await AssertRefusedAsync(input, "larger than the 16 MiB record limit");
    }

    [Fact]
    public async Task A_100_MB_single_string_beside_the_records_array_fails_the_run_at_the_record_limit()
    {
        var input = await _cli.StreamedFileAsync("huge-meta.json", async stream =>
        {
            await stream.WriteAsync("{\"meta\":\""u8.ToArray());
            var chunk = Enumerable.Repeat((byte)'a', 1 << 20).ToArray();
            for (var i = 0; i < 100; i++)
            {
                await stream.WriteAsync(chunk);
            }

            await stream.WriteAsync(Encoding.UTF8.GetBytes($"\",\"result\":[{Good}]}}"));
        });

        await AssertRefusedAsync(input, "larger than the 16 MiB record limit", """{"dataset":"people","records":"$.result","id":"id"}""");
    }

    [Fact]
    public async Task A_number_with_a_10000_digit_exponent_fails_the_run_naming_the_record()
    {
        var input = await _cli.StreamedFileAsync("exponent.json", async stream =>
        {
            await stream.WriteAsync(Encoding.UTF8.GetBytes($"[{Good},\n{{\"id\":2,\"email\":\"b@example.org\",\"score\":1e"));
            await stream.WriteAsync(Encoding.ASCII.GetBytes(new string('9', 10_000)));
            await stream.WriteAsync("}]"u8.ToArray());
        });

        await AssertRefusedAsync(input, "record 1");
    }

    [Fact]
    public async Task A_number_with_a_10000_digit_negative_exponent_fails_the_run_naming_the_record()
    {
        var input = await _cli.StreamedFileAsync("tiny.json", async stream =>
        {
            await stream.WriteAsync(Encoding.UTF8.GetBytes($"[{Good},\n{Good.Replace("1", "2", StringComparison.Ordinal)},\n{{\"id\":3,\"email\":\"b@example.org\",\"score\":1e-"));
            await stream.WriteAsync(Encoding.ASCII.GetBytes(new string('9', 10_000)));
            await stream.WriteAsync("}]"u8.ToArray());
        });

        await AssertRefusedAsync(input, "record 2");
    }

    [Fact]
    public Task A_top_level_number_fails_the_run() => AssertContentRefusedAsync("scalar.json", "42", "the top-level value is a number");

    [Fact]
    public Task A_top_level_string_fails_the_run() => AssertContentRefusedAsync("string.json", "\"customers\"", "the top-level value is a string");

    [Fact]
    public Task A_records_path_that_is_missing_fails_the_run() =>
        AssertContentRefusedAsync("no-result.json", $"{{\"data\":[{Good}]}}", "the records path $.result was not found", """{"dataset":"people","records":"$.result","id":"id"}""");

    [Fact]
    public Task A_records_path_that_is_not_an_array_fails_the_run() =>
        AssertContentRefusedAsync("object-result.json", $"{{\"result\":{Good}}}", "is an object, not an array", """{"dataset":"people","records":"$.result","id":"id"}""");

    [Fact]
    public Task A_records_path_on_a_top_level_array_fails_the_run() =>
        AssertContentRefusedAsync("array-not-object.json", $"[{Good}]", "not an object", """{"dataset":"people","records":"$.result","id":"id"}""");

    [Fact]
    public Task Ndjson_with_one_broken_line_fails_the_whole_file() =>
        AssertContentRefusedAsync("broken.ndjson", $"{Good}\n{Other(2)}\n{{\"id\":3,\"email\":\"c@example.org\"]\n{Other(4)}\n", "line 3");

    [Fact]
    public Task Ndjson_with_one_truncated_line_fails_the_whole_file_at_the_next_line() =>
        // A line cut short reads on into the next one; the error names where the JSON stops making sense.
        AssertContentRefusedAsync("cut.ndjson", $"{Good}\n{Other(2)}\n{{\"id\":3,\"email\":\"c@example.org\"\n{Other(4)}\n", "line 4");

    [Fact]
    public async Task A_utf8_byte_order_mark_is_accepted()
    {
        var database = await postgres.CreateDatabaseAsync();
        var input = _cli.File("bom.json", [.. Encoding.UTF8.Preamble, .. Encoding.UTF8.GetBytes($"[{Good}]")]);

        var run = await _cli.RunAsync(database, "run", input, "--profile", _cli.Profile());

        run.ExitCode.Should().Be(0, run.Error);
        (await Ledger.RunsAsync(database)).Should().ContainSingle().Which.Status.Should().Be("succeeded");
        (await Ledger.RecordsAsync(database)).Should().Be(1);
    }

    public void Dispose() => _cli.Dispose();

    private static string Other(int id) => Good.Replace("1", id.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);

    private Task AssertContentRefusedAsync(string name, string content, string reason, string? profile = null) =>
        AssertRefusedAsync(_cli.File(name, content), reason, profile);

    private Task AssertContentRefusedAsync(string name, byte[] content, string reason, string? profile = null) =>
        AssertRefusedAsync(_cli.File(name, content), reason, profile);

    private async Task AssertRefusedAsync(string input, string reason, string? profile = null)
    {
        var database = await postgres.CreateDatabaseAsync();
        var name = Path.GetFileName(input);
        try
        {
            var run = await _cli.RunAsync(database, "run", input, "--profile", _cli.Profile(profile ?? CliHarness.DefaultProfile));

            run.ExitCode.Should().Be(1, run.Output);
            var line = run.ErrorLines.Should().ContainSingle().Which;
            line.Should().StartWith($"error: {name}: ").And.Contain(reason);
            Position().IsMatch(line).Should().BeTrue($"the error names where the problem is: {line}");
            line.Should().NotContain("   at ", "no stack trace");

            (await Ledger.RecordsAsync(database)).Should().Be(0, "a malformed file never half-loads");
            var ledger = (await Ledger.RunsAsync(database)).Should().ContainSingle().Which;
            ledger.Status.Should().Be("failed");
            ledger.Error.Should().Contain(name).And.Contain(reason);
            (await Ledger.RejectsAsync(database)).Should().BeEmpty();
            _cli.LeftoverFiles().Should().BeEmpty("a failed run leaves no staging output behind");
        }
        finally
        {
            File.Delete(input); // big generated inputs go as soon as the cell is done
            await postgres.DropDatabaseAsync(new Npgsql.NpgsqlConnectionStringBuilder(database).Database!);
        }
    }

    [GeneratedRegex(@"(line \d+, column \d+|byte offset \d+|record \d+)")]
    private static partial Regex Position();
}
