using DataProcess.Core.Profiles;

using DataProcess.Core.Tests.Transforms;

namespace DataProcess.Core.Tests.Profiles;

public sealed class FieldPathTests
{
    [Theory]
    [InlineData("email", "email")]
    [InlineData("address.city", "address|city")]
    [InlineData("friends[*].phone", "friends|[*]|phone")]
    [InlineData("tags[*]", "tags|[*]")]
    [InlineData("matrix[*][*]", "matrix|[*]|[*]")]
    [InlineData("user-name.first_name", "user-name|first_name")]
    public void Parses_dotted_names_and_wildcards(string text, string expected)
    {
        string.Join('|', TransformFixtures.Path(text).Segments).Should().Be(expected);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData(".a", "empty name")]
    [InlineData("a.", "ends with an empty name")]
    [InlineData("[*].a", "starts with [*]")]
    [InlineData("a[1]", "unsupported index")]
    [InlineData("a[*]b", "needs a '.' after [*]")]
    [InlineData("a b", "unexpected ' '")]
    [InlineData("$.a", "unexpected '$'")]
    public void Refuses_bad_syntax_saying_why(string text, string expected)
    {
        FieldPath.TryParse(text, out _, out var error).Should().BeFalse();
        error.Should().Contain(expected);
    }

    [Fact]
    public void Knows_when_one_path_is_inside_another()
    {
        TransformFixtures.Path("user.id").IsWithinOrEqual(TransformFixtures.Path("user")).Should().BeTrue();
        TransformFixtures.Path("user").IsWithinOrEqual(TransformFixtures.Path("user.id")).Should().BeFalse();
        TransformFixtures.Path("userid").IsWithinOrEqual(TransformFixtures.Path("user")).Should().BeFalse();
        TransformFixtures.Path("a[*].b").Should().Be(TransformFixtures.Path("a[*].b"));
    }
}
