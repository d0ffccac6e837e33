using System.Text.Json.Nodes;
using DataProcess.Core.Transforms;

namespace DataProcess.Core.Tests.Transforms;

public sealed class DateValuesTests
{
    [Theory]
    [InlineData("1998-01-05", "1998-01-05T00:00:00.0000000+00:00")]
    [InlineData("1998-01-05T15:59:20", "1998-01-05T15:59:20.0000000+00:00")]
    [InlineData("1998-01-05T15:59:20Z", "1998-01-05T15:59:20.0000000+00:00")]
    [InlineData("1998-01-05t15:59:20z", "1998-01-05T15:59:20.0000000+00:00")]
    [InlineData("1998-01-05T15:59:20.123Z", "1998-01-05T15:59:20.1230000+00:00")]
    [InlineData("1998-01-05T15:59:20.1234567Z", "1998-01-05T15:59:20.1234567+00:00")]
    [InlineData("1998-01-05T15:59:20.123456789Z", "1998-01-05T15:59:20.1234567+00:00")]
    [InlineData("1998-01-05T15:59:20,5Z", "1998-01-05T15:59:20.5000000+00:00")]
    [InlineData("1998-01-05T15:59:20+02:00", "1998-01-05T15:59:20.0000000+02:00")]
    [InlineData("1998-01-05T15:59:20+0200", "1998-01-05T15:59:20.0000000+02:00")]
    [InlineData("1998-01-05T15:59:20-05", "1998-01-05T15:59:20.0000000-05:00")]
    [InlineData("1998-01-05T15:59", "1998-01-05T15:59:00.0000000+00:00")]
    [InlineData("1998-01-05 15:59:20", "1998-01-05T15:59:20.0000000+00:00")]
    [InlineData("  1998-01-05  ", "1998-01-05T00:00:00.0000000+00:00")]
    public void TryParse_reads_ISO_8601_dates_and_timestamps(string text, string expected)
    {
        DateValues.TryParse(text, out var value).Should().BeTrue();
        value.ToString("o").Should().Be(expected);
    }

    [Theory]
    [InlineData("Mon, 05 Jan 1998 15:59:20 GMT", "1998-01-05T15:59:20.0000000+00:00")]
    [InlineData("Mon, 5 Jan 1998 15:59:20 GMT", "1998-01-05T15:59:20.0000000+00:00")]
    [InlineData("Mon, 05 Jan 1998 15:59:20 +0000", "1998-01-05T15:59:20.0000000+00:00")]
    [InlineData("Mon, 05 Jan 1998 15:59:20 +0200", "1998-01-05T15:59:20.0000000+02:00")]
    [InlineData("05 Jan 1998 15:59:20 GMT", "1998-01-05T15:59:20.0000000+00:00")]
    [InlineData("05 Jan 1998 15:59:20 -0130", "1998-01-05T15:59:20.0000000-01:30")]
    public void TryParse_reads_RFC_1123_dates(string text, string expected)
    {
        DateValues.TryParse(text, out var value).Should().BeTrue();
        value.ToString("o").Should().Be(expected);
    }

    [Fact]
    public void TryParse_reads_the_Twitter_format()
    {
        DateValues.TryParse("Wed Oct 10 20:19:24 +0000 2018", out var value).Should().BeTrue();
        value.Should().Be(new DateTimeOffset(2018, 10, 10, 20, 19, 24, TimeSpan.Zero));
    }

    [Theory]
    [InlineData("1998/01/05")]
    [InlineData("05.01.1998")]
    [InlineData("5.1.1998")]
    [InlineData("19980105")]
    public void TryParse_reads_slashed_dotted_and_compact_dates(string text)
    {
        DateValues.TryParse(text, out var value).Should().BeTrue();
        value.Should().Be(new DateTimeOffset(1998, 1, 5, 0, 0, 0, TimeSpan.Zero));
    }

    [Theory]
    [InlineData("01/02/2003")]
    [InlineData("1/2/03")]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("yesterday")]
    [InlineData("1998-13-01")]
    [InlineData("1998-02-29")]
    [InlineData("1998-01-32")]
    [InlineData("1998-01-05T24:00:00")]
    [InlineData("1998-01-05T15:60")]
    [InlineData("1998-01-05T15:59:20+15:00")]
    [InlineData("1998-01-05T15:59:20.Z")]
    [InlineData("1998-01-05T15:59:20 GMT")]
    [InlineData("1998-01-05X")]
    [InlineData("0000-01-01")]
    [InlineData("0001-01-01T00:00:00+01:00")]
    [InlineData("9999-12-31T23:00:00-02:00")]
    [InlineData("Tue, 05 Jan 1998 15:59:20 GMT")]
    [InlineData("1998015")]
    [InlineData("12345678")]
    public void TryParse_refuses_invalid_ambiguous_and_out_of_range_dates(string text)
    {
        DateValues.TryParse(text, out _).Should().BeFalse();
    }

    [Fact]
    public void TryParse_accepts_a_leap_day_in_a_leap_year()
    {
        DateValues.TryParse("2000-02-29", out var value).Should().BeTrue();
        value.Day.Should().Be(29);
    }

    [Fact]
    public void TryParse_of_a_JSON_number_reads_epoch_seconds()
    {
        DateValues.TryParse(TransformFixtures.Element("884015960"), out var value).Should().BeTrue();
        value.Should().Be(new DateTimeOffset(1998, 1, 5, 15, 59, 20, TimeSpan.Zero));
    }

    [Theory]
    [InlineData("1998", 1998)]
    [InlineData("1000", 1000)]
    [InlineData("9999", 9999)]
    public void TryParse_of_a_four_digit_whole_number_reads_it_as_a_year(string json, int year)
    {
        DateValues.TryParse(TransformFixtures.Element(json), out var value).Should().BeTrue();
        value.Should().Be(new DateTimeOffset(year, 1, 1, 0, 0, 0, TimeSpan.Zero));
    }

    [Fact]
    public void TryParse_of_a_four_digit_fraction_reads_epoch_seconds()
    {
        DateValues.TryParse(TransformFixtures.Element("1998.5"), out var value).Should().BeTrue();
        value.Year.Should().Be(1970);
    }

    [Fact]
    public void TryParse_of_a_JSON_number_above_10_to_the_11_reads_epoch_milliseconds()
    {
        DateValues.TryParse(TransformFixtures.Element("884015960123"), out var value).Should().BeTrue();
        value.Should().Be(new DateTimeOffset(1998, 1, 5, 15, 59, 20, 123, TimeSpan.Zero));
    }

    [Fact]
    public void TryParse_of_a_JSON_string_parses_its_text()
    {
        DateValues.TryParse(TransformFixtures.Element("\"1998-01-05\""), out var value).Should().BeTrue();
        value.Year.Should().Be(1998);
    }

    [Theory]
    [InlineData("null")]
    [InlineData("true")]
    [InlineData("{}")]
    [InlineData("[]")]
    [InlineData("1e300")]
    [InlineData("\"01/02/2003\"")]
    public void TryParse_of_a_JSON_value_refuses_what_is_not_a_date(string json)
    {
        DateValues.TryParse(TransformFixtures.Element(json), out _).Should().BeFalse();
    }
}
