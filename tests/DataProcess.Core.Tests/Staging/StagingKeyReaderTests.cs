using System.Text;
using DataProcess.Core.Stages;
using DataProcess.Core.Staging;

namespace DataProcess.Core.Tests.Staging;

public sealed class StagingKeyReaderTests
{
    [Fact]
    public async Task Reads_index_id_and_reject_of_every_line_without_the_payload()
    {
        var lines = """
            {"i":0,"id":"a","r":{"id":"a","note":"x"}}
            {"i":1,"id":null,"x":"the id 'id' is missing"}

            {"i":2,"id":"c","r":{"id":"c","s":"\"quoted\" \\n"}}
            """;

        var read = await ReadAllAsync(lines);

        read.Should().Equal((0L, "a", (string?)null), (1L, (string?)null, "the id 'id' is missing"), (2L, "c", (string?)null));
    }

    [Fact]
    public async Task Finds_lines_across_buffer_refills_and_lines_longer_than_the_buffer()
    {
        var big = new string('z', 3 * 1024 * 1024);
        var text = new StringBuilder();
        for (var i = 0; i < 5; i++)
        {
            text.Append("{\"i\":").Append(i).Append(",\"id\":\"k").Append(i).Append("\",\"r\":{\"v\":\"").Append(i == 2 ? big : "small").Append("\"}}\n");
        }

        var read = await ReadAllAsync(text.ToString());

        read.Select(r => r.Id).Should().Equal("k0", "k1", "k2", "k3", "k4");
    }

    [Fact]
    public async Task Reads_a_last_line_without_a_newline()
    {
        (await ReadAllAsync("{\"i\":0,\"id\":\"a\",\"r\":{}}")).Should().ContainSingle();
    }

    [Theory]
    [InlineData("""{"i":0,"r":{}}""")]
    [InlineData("""{"id":"a","r":{}}""")]
    [InlineData("""{"i":0,"id":"a"}""")]
    [InlineData("""[1,2]""")]
    [InlineData("""{"i":"zero","id":"a","r":{}}""")]
    [InlineData("""{"i":0,"id":"a",""")]
    public async Task Refuses_a_line_that_is_not_a_staged_record(string line)
    {
        var act = () => ReadAllAsync(line + "\n");

        (await act.Should().ThrowAsync<StagingException>()).Which.Message.Should().StartWith("staging output anonymization.ndjson: the line after record");
    }

    private static async Task<List<(long Index, string? Id, string? Reject)>> ReadAllAsync(string text)
    {
        await using var reader = new StagingKeyReader(new MemoryStream(Encoding.UTF8.GetBytes(text)), "anonymization.ndjson");
        var read = new List<(long, string?, string?)>();
        while (await reader.ReadAsync(CancellationToken.None))
        {
            read.Add((reader.Index, reader.Id, reader.Reject));
        }

        return read;
    }
}
