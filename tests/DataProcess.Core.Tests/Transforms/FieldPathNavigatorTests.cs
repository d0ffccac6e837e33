using System.Text.Json.Nodes;
using DataProcess.Core.Profiles;
using DataProcess.Core.Transforms;

namespace DataProcess.Core.Tests.Transforms;

public sealed class FieldPathNavigatorTests
{
    [Theory]
    [InlineData("email", """{"email":"a"}""", new[] { "\"a\"" })]
    [InlineData("address.geo.ip", """{"address":{"geo":{"ip":"1.2.3.4"}}}""", new[] { "\"1.2.3.4\"" })]
    [InlineData("friends[*].phone", """{"friends":[{"phone":1},{"name":"x"},{"phone":null},7,{"phone":2}]}""", new[] { "1", "null", "2" })]
    [InlineData("tags[*]", """{"tags":["a",null,3]}""", new[] { "\"a\"", "null", "3" })]
    [InlineData("m[*][*]", """{"m":[[1,2],[3],"x"]}""", new[] { "1", "2", "3" })]
    [InlineData("email", """{"mail":"a"}""", new string[0])]
    [InlineData("address.geo.ip", """{"address":{"geo":null}}""", new string[0])]
    [InlineData("address.geo.ip", """{"address":"Main Street 1"}""", new string[0])]
    [InlineData("tags[*]", """{"tags":{"0":"a"}}""", new string[0])]
    [InlineData("tags[*]", """{"tags":"a"}""", new string[0])]
    [InlineData("tags[*]", """{"tags":[]}""", new string[0])]
    public void VisitAll_visits_every_value_the_path_names(string path, string json, string[] expected)
    {
        var visitor = new Collector { Seen = [] };

        FieldPathNavigator.VisitAll(JsonNode.Parse(json)!.AsObject(), [.. FieldPath.Parse(path).Segments], ref visitor).Should().BeTrue();

        visitor.Seen.Should().Equal(expected);
    }

    [Fact]
    public void VisitAll_stops_when_the_visitor_says_so()
    {
        var visitor = new Collector { Seen = [], StopAfter = 2 };

        FieldPathNavigator.VisitAll(JsonNode.Parse("""{"t":[1,2,3]}""")!.AsObject(), [.. FieldPath.Parse("t[*]").Segments], ref visitor)
            .Should().BeFalse();

        visitor.Seen.Should().Equal("1", "2");
    }

    [Fact]
    public void TryGetSingle_tells_an_absent_value_from_a_null_one()
    {
        var record = JsonNode.Parse("""{"a":{"b":null}}""")!.AsObject();

        FieldPathNavigator.TryGetSingle(record, [.. FieldPath.Parse("a.b").Segments], out var value).Should().BeTrue();
        value.Should().BeNull();
        FieldPathNavigator.TryGetSingle(record, [.. FieldPath.Parse("a.c").Segments], out _).Should().BeFalse();
        FieldPathNavigator.TryGetSingle(record, [.. FieldPath.Parse("a.b.c").Segments], out _).Should().BeFalse();
    }

    private struct Collector : IFieldVisitor
    {
        public List<string> Seen;
        public int StopAfter;

        public readonly bool Visit(FieldSlot slot)
        {
            Seen.Add(slot.Value?.ToJsonString() ?? "null");
            return StopAfter == 0 || Seen.Count < StopAfter;
        }
    }
}
