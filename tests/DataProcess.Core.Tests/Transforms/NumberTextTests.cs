using System.Text;
using DataProcess.Core.Transforms;

namespace DataProcess.Core.Tests.Transforms;

public sealed class NumberTextTests
{
    [Theory]
    [InlineData("100", "100")]
    [InlineData("1e2", "100")]
    [InlineData("1.0E+2", "100")]
    [InlineData("100.000", "100")]
    [InlineData("10000e-2", "100")]
    [InlineData("-0", "0")]
    [InlineData("-0.0", "0")]
    [InlineData("0e10", "0")]
    [InlineData("1.50", "1.5")]
    [InlineData("-12.5e-3", "-0.0125")]
    [InlineData("0.001", "0.001")]
    [InlineData("123456789012345678901234567890", "123456789012345678901234567890")]
    [InlineData("1.5e-1", "0.15")]
    public void Every_spelling_of_a_number_has_one_text(string raw, string expected) =>
        NumberText.Canonical(Encoding.UTF8.GetBytes(raw)).Should().Be(expected);

    [Theory]
    [InlineData("1e999999999", "1e+999999999")]
    [InlineData("-25e-999", "-2.5e-998")]
    [InlineData("1e99999999999999999999999", "1e+1000000000000000")]
    public void A_number_too_long_for_plain_decimal_keeps_a_short_exponent_form(string raw, string expected) =>
        NumberText.Canonical(Encoding.UTF8.GetBytes(raw)).Should().Be(expected);

    [Fact]
    public void Only_integers_without_a_negative_zero_are_already_canonical()
    {
        NumberText.IsCanonical("42"u8).Should().BeTrue();
        NumberText.IsCanonical("-7"u8).Should().BeTrue();
        NumberText.IsCanonical("-0"u8).Should().BeFalse();
        NumberText.IsCanonical("4.2"u8).Should().BeFalse();
        NumberText.IsCanonical("4e2"u8).Should().BeFalse();
    }
}
