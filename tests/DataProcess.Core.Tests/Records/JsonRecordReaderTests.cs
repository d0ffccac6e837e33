using System.Text;
using DataProcess.Core.Profiles;
using DataProcess.Core.Records;

namespace DataProcess.Core.Tests.Records;

public sealed class JsonRecordReaderTests
{
    private static readonly RecordsLocation Result = RecordsLocation.AtPath(["result"], "$.result");

    [Theory]
    [InlineData(16)]
    [InlineData(64)]
    [InlineData(1024 * 1024)]
    public async Task Reads_every_record_of_a_top_level_array_whatever_the_buffer_size(int bufferSize)
    {
        var records = await ReadAll("""[{"id":1},{"id":2,"tags":["a","b"]},{"id":3,"nested":{"x":[1,2,{"y":"z"}]}}]""", RecordsLocation.Detect, bufferSize);

        records.Should().Equal("""{"id":1}""", """{"id":2,"tags":["a","b"]}""", """{"id":3,"nested":{"x":[1,2,{"y":"z"}]}}""");
    }

    [Theory]
    [InlineData(16)]
    [InlineData(4096)]
    public async Task Reads_the_array_at_a_property_path_and_skips_siblings_before_and_after(int bufferSize)
    {
        var json = """{"meta":{"count":2,"big":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},"result":[{"id":"a"},{"id":"b"}],"next":{"cursor":"x"}}""";

        var records = await ReadAll(json, Result, bufferSize);

        records.Should().Equal("""{"id":"a"}""", """{"id":"b"}""");
    }

    [Fact]
    public async Task Reads_an_array_at_a_nested_path()
    {
        var json = """{"data":{"total":1,"items":[{"id":1}]},"items":[{"id":"not these"}]}""";

        var records = await ReadAll(json, RecordsLocation.AtPath(["data", "items"], "$.data.items"));

        records.Should().Equal("""{"id":1}""");
    }

    [Fact]
    public async Task Reads_a_twitter_style_statuses_array()
    {
        var json = """{"statuses":[{"id_str":"1","text":"hi"}],"search_metadata":{"count":1}}""";

        var records = await ReadAll(json, RecordsLocation.AtPath(["statuses"], "$.statuses"));

        records.Should().ContainSingle().Which.Should().Be("""{"id_str":"1","text":"hi"}""");
    }

    [Theory]
    [InlineData(16)]
    [InlineData(4096)]
    public async Task Reads_ndjson_one_record_per_line(int bufferSize)
    {
        var ndjson = "{\"id\":1}\n{\"id\":2}\r\n\n{\"id\":3,\"s\":\"line\\nbreak\"}\n";

        var records = await ReadAll(ndjson, RecordsLocation.Detect, bufferSize);

        records.Should().Equal("""{"id":1}""", """{"id":2}""", """{"id":3,"s":"line\nbreak"}""");
    }

    [Fact]
    public async Task Numbers_every_record_from_zero_including_non_objects()
    {
        await using var reader = Reader("""[{"id":1},42,"x",null,{"id":2}]""", RecordsLocation.TopLevelArray);
        var seen = new List<(long, string)>();
        while (await reader.ReadAsync())
        {
            seen.Add((reader.RecordIndex, Encoding.UTF8.GetString(reader.Record.Span)));
        }

        seen.Should().Equal((0, """{"id":1}"""), (1, "42"), (2, "\"x\""), (3, "null"), (4, """{"id":2}"""));
        reader.Shape.Should().Be(InputShape.TopLevelArray);
    }

    [Fact]
    public async Task An_empty_array_has_no_records()
    {
        (await ReadAll("  [ ]  ", RecordsLocation.Detect)).Should().BeEmpty();
    }

    [Fact]
    public async Task A_utf8_byte_order_mark_is_accepted()
    {
        var bytes = Encoding.UTF8.Preamble.ToArray().Concat(Encoding.UTF8.GetBytes("""[{"id":1}]""")).ToArray();

        (await ReadAll(bytes, RecordsLocation.Detect, 16)).Should().Equal("""{"id":1}""");
    }

    [Fact]
    public async Task Reports_the_bytes_read()
    {
        var json = """[{"id":1},{"id":2}]""";
        await using var reader = Reader(json, RecordsLocation.Detect);
        while (await reader.ReadAsync())
        {
        }

        reader.BytesRead.Should().Be(json.Length);
    }

    [Theory]
    [InlineData("", "the file is empty")]
    [InlineData("   \n\t ", "the file contains only whitespace")]
    [InlineData("42", "the top-level value is a number")]
    [InlineData("\"text\"", "the top-level value is a string")]
    [InlineData("true", "the top-level value is a boolean")]
    public async Task Refuses_inputs_that_hold_no_records(string input, string expected)
    {
        var act = () => ReadAll(input, RecordsLocation.Detect);

        (await act.Should().ThrowAsync<MalformedInputException>()).Which.Message.Should().StartWith("input.json: ").And.Contain(expected);
    }

    [Theory]
    [InlineData("""[{"id":1},{"id":2""", "input ends")]
    [InlineData("""[{"id":1},{"id":"abc""", "input ends")]
    [InlineData("""[{"id":1},{"id":12""", "input ends")]
    [InlineData("""[{"id":1},[1,2""", "input ends")]
    [InlineData("""[{"id":1}] x""", "line 1, column 12")]
    [InlineData("""[{"id":1}] [2]""", "line 1, column 12")]
    [InlineData("[{\"id\":\"a\\qb\"}]", "line 1")]
    [InlineData("[{\"id\":NaN}]", "line 1, column 8")]
    [InlineData("[{\"id\":Infinity}]", "line 1, column 8")]
    [InlineData("[{\"id\":0123}]", "line 1")]
    [InlineData("[{'id':1}]", "line 1, column 3")]
    [InlineData("[{\"id\":1} // comment\n]", "line 1")]
    [InlineData("[{\"id\":\"a\tb\"}]", "line 1")]
    [InlineData("[{\"id\":1},\n{\"id\":2,}\n]", "line 2")]
    public async Task Refuses_malformed_json_naming_the_place(string input, string expected)
    {
        foreach (var bufferSize in new[] { 16, 4096 })
        {
            var act = () => ReadAll(input, RecordsLocation.Detect, bufferSize);

            (await act.Should().ThrowAsync<MalformedInputException>()).Which.Message.Should().StartWith("input.json: ").And.Contain(expected);
        }
    }

    [Fact]
    public async Task Refuses_ndjson_with_a_broken_line_naming_the_line()
    {
        var act = () => ReadAll("{\"id\":1}\n{\"id\":2\n{\"id\":3}\n", RecordsLocation.Detect);

        (await act.Should().ThrowAsync<MalformedInputException>()).Which.Message.Should().Contain("line 3");
    }

    [Fact]
    public async Task Refuses_a_records_path_that_is_missing()
    {
        var act = () => ReadAll("""{"data":[{"id":1}]}""", Result);

        (await act.Should().ThrowAsync<MalformedInputException>()).Which.Message.Should().Contain("the records path $.result was not found: no 'result' in the top-level object");
    }

    [Fact]
    public async Task Refuses_a_records_path_that_is_not_an_array()
    {
        var act = () => ReadAll("""{"result":{"id":1}}""", Result);

        (await act.Should().ThrowAsync<MalformedInputException>()).Which.Message.Should().Contain("'result' at byte offset 10 is an object, not an array");
    }

    [Fact]
    public async Task Refuses_a_records_path_when_the_document_is_an_array()
    {
        var act = () => ReadAll("""[{"id":1}]""", Result);

        (await act.Should().ThrowAsync<MalformedInputException>()).Which.Message.Should().Contain("the top-level value is an array, not an object");
    }

    [Fact]
    public async Task Refuses_malformed_json_after_the_records_array()
    {
        var act = () => ReadAll("""{"result":[{"id":1}],"tail":[1,}""", Result);

        await act.Should().ThrowAsync<MalformedInputException>();
    }

    [Fact]
    public async Task Refuses_invalid_utf8_inside_a_record_with_its_offset()
    {
        var bytes = Encoding.UTF8.GetBytes("""[{"id":"ab"}]""");
        bytes[8] = 0xFF;

        var act = () => ReadAll(bytes, RecordsLocation.Detect, 4096);

        (await act.Should().ThrowAsync<MalformedInputException>()).Which.Message.Should().Contain("invalid UTF-8 in record 0 at byte offset 8");
    }

    [Fact]
    public async Task Refuses_deep_nesting_without_overflowing_the_stack()
    {
        var json = "[" + new string('[', 100_000) + new string(']', 100_000) + "]";

        var act = () => ReadAll(json, RecordsLocation.Detect);

        (await act.Should().ThrowAsync<MalformedInputException>()).Which.Message.Should().Contain("depth");
    }

    [Fact]
    public async Task Refuses_a_record_larger_than_the_limit()
    {
        var json = """[{"id":1},{"id":2,"s":""" + "\"" + new string('a', 5000) + "\"}]";
        await using var reader = new JsonRecordReader(new MemoryStream(Encoding.UTF8.GetBytes(json)), "input.json", RecordsLocation.Detect, maxRecordBytes: 1024, bufferSize: 256);

        (await reader.ReadAsync()).Should().BeTrue();
        var act = async () => await reader.ReadAsync();

        (await act.Should().ThrowAsync<MalformedInputException>()).Which.Message.Should().Contain("record 1").And.Contain("record limit");
    }

    [Fact]
    public async Task Streams_a_large_input_without_holding_it()
    {
        // 200,000 records through a 64 KiB buffer: the reader never needs more than one record's room.
        var stream = new GeneratedArrayStream(200_000);
        await using var reader = new JsonRecordReader(stream, "big.json", RecordsLocation.Detect, bufferSize: 64 * 1024);
        long count = 0;
        while (await reader.ReadAsync())
        {
            count++;
        }

        count.Should().Be(200_000);
        reader.BytesRead.Should().Be(stream.Length);
    }

    private static JsonRecordReader Reader(string json, RecordsLocation location, int bufferSize = 4096) =>
        new(new MemoryStream(Encoding.UTF8.GetBytes(json)), "input.json", location, bufferSize: bufferSize);

    private static Task<List<string>> ReadAll(string json, RecordsLocation location, int bufferSize = 4096) =>
        ReadAll(Encoding.UTF8.GetBytes(json), location, bufferSize);

    private static async Task<List<string>> ReadAll(byte[] bytes, RecordsLocation location, int bufferSize = 4096)
    {
        await using var reader = new JsonRecordReader(new MemoryStream(bytes), "input.json", location, bufferSize: bufferSize);
        var records = new List<string>();
        while (await reader.ReadAsync())
        {
            records.Add(Encoding.UTF8.GetString(reader.Record.Span));
        }

        return records;
    }

    /// <summary>A read-only stream that produces a JSON array of n small records on the fly.</summary>
    private sealed class GeneratedArrayStream : Stream
    {
        private readonly byte[] _content;

        public GeneratedArrayStream(int records)
        {
            var builder = new StringBuilder("[");
            for (var i = 0; i < records; i++)
            {
                builder.Append(i == 0 ? "" : ",").Append("{\"id\":").Append(i).Append(",\"name\":\"n").Append(i).Append("\"}");
            }

            _content = Encoding.UTF8.GetBytes(builder.Append(']').ToString());
        }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => _content.Length;

        public override long Position { get; set; }

        public override int Read(byte[] buffer, int offset, int count)
        {
            // Short reads, as a network stream gives them.
            var n = (int)Math.Min(Math.Min(count, 7000), _content.Length - Position);
            Array.Copy(_content, Position, buffer, offset, n);
            Position += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
