using System.Text;
using DataProcess.Core.Transforms;

namespace DataProcess.Core.Tests.Transforms;

public sealed class CompactJsonTests
{
    [Theory]
    [InlineData("{\"a\":1,\"b\":[true,null]}")]
    [InlineData("[\"with spaces and \\\" a quote\",\"back\\\\slash\"]")]
    [InlineData("{\"k\":\"\\u0020\\t\"}")]
    [InlineData("[]")]
    public void A_compact_value_has_no_whitespace_to_drop(string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);

        CompactJson.IndexOfWhitespace(bytes).Should().Be(-1);
        Compact(json).Should().Be(json);
    }

    [Theory]
    [InlineData("{\r\n  \"a\" : 1,\r\n  \"b\" : [ true , null ]\r\n}", "{\"a\":1,\"b\":[true,null]}")]
    [InlineData("[\n\t\"keep  these  spaces\",\n\t\"and \\\" this\" ]", "[\"keep  these  spaces\",\"and \\\" this\"]")]
    [InlineData("{ \"\\\\\" : \"\\\\\" }", "{\"\\\\\":\"\\\\\"}")]
    [InlineData("[ ]", "[]")]
    public void Whitespace_outside_strings_is_dropped_and_strings_are_kept_byte_for_byte(string json, string expected)
    {
        CompactJson.IndexOfWhitespace(Encoding.UTF8.GetBytes(json)).Should().BeGreaterThanOrEqualTo(0);
        Compact(json).Should().Be(expected);
    }

    private static string Compact(string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        var destination = new byte[bytes.Length];
        return Encoding.UTF8.GetString(destination, 0, CompactJson.Copy(bytes, destination));
    }
}
