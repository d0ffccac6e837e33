using System.Text;
using DataProcess.Core.Profiles;
using DataProcess.Core.Records;

namespace DataProcess.Core.Tests.Records;

public sealed class RecordValidatorTests
{
    private static readonly Profile Profile = ProfileLoader.Parse(
        Encoding.UTF8.GetBytes("""{"dataset":"d","id":"meta.id","require":["email","address.city"]}"""), "p.json");

    [Fact]
    public void Accepts_an_object_with_an_id_and_the_required_fields()
    {
        var result = Validate("""{"meta":{"id":"c-1"},"email":"a@b.c","address":{"city":"Oslo"}}""");

        result.Reject.Should().BeNull();
        result.Id.Should().Be("c-1");
        result.Document!.RootElement.GetProperty("email").GetString().Should().Be("a@b.c");
    }

    [Fact]
    public void Uses_a_numeric_id_as_its_json_text()
    {
        Validate("""{"meta":{"id":12345678901234},"email":"x","address":{"city":"y"}}""").Id.Should().Be("12345678901234");
    }

    [Theory]
    [InlineData("42", "the record is a number, not an object")]
    [InlineData("\"text\"", "the record is a string, not an object")]
    [InlineData("[1]", "the record is an array, not an object")]
    [InlineData("null", "the record is null, not an object")]
    [InlineData("""{"email":"x","address":{"city":"y"}}""", "the id 'meta.id' is missing")]
    [InlineData("""{"meta":{"id":null},"email":"x"}""", "the id 'meta.id' is null")]
    [InlineData("""{"meta":{"id":""},"email":"x"}""", "the id 'meta.id' is empty")]
    [InlineData("""{"meta":{"id":"  "},"email":"x"}""", "the id 'meta.id' is empty")]
    [InlineData("""{"meta":{"id":{"v":1}},"email":"x"}""", "the id 'meta.id' is an object; it must be a string or a number")]
    [InlineData("""{"meta":{"id":[1]},"email":"x"}""", "the id 'meta.id' is an array; it must be a string or a number")]
    [InlineData("""{"meta":{"id":true},"email":"x"}""", "the id 'meta.id' is a boolean; it must be a string or a number")]
    [InlineData("""{"meta":{"id":"1"},"address":{"city":"y"}}""", "the required field 'email' is missing")]
    [InlineData("""{"meta":{"id":"1"},"email":null,"address":{"city":"y"}}""", "the required field 'email' is null")]
    [InlineData("""{"meta":{"id":"1"},"email":"x","address":"flat"}""", "the required field 'address.city' is missing")]
    [InlineData("""{"meta":{"id":"1"},"email":"secret@example.com","email":"other@example.com"}""", "the record has two properties with the same name")]
    public void Rejects_a_record_with_a_reason(string json, string reason)
    {
        var result = Validate(json);

        result.Document.Should().BeNull();
        result.Reject.Should().Be(reason);
        result.Reject.Should().NotContain("example.com");
    }

    [Fact]
    public void Rejects_an_id_over_the_length_cap()
    {
        var id = new string('x', Profile.MaxIdLength + 1);

        Validate("{\"meta\":{\"id\":\"" + id + "\"},\"email\":\"x\",\"address\":{\"city\":\"y\"}}").Reject.Should().Be("the id 'meta.id' is longer than 256 characters");
    }

    [Fact]
    public void Keeps_the_id_of_a_record_rejected_for_a_missing_field()
    {
        Validate("""{"meta":{"id":"c-9"}}""").Id.Should().Be("c-9");
    }

    /// <summary>What the stages validate: a parsed document to dispose, or a reason (the document stays readable in the test).</summary>
    private static ValidatedDocument Validate(string json) => RecordValidator.ValidateDocument(Encoding.UTF8.GetBytes(json), Profile);
}
