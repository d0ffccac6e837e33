using DataProcess.Core.Transforms;

namespace DataProcess.Core.Tests.Transforms;

public sealed class CountriesTests
{
    [Theory]
    [InlineData("DE", "Germany")]
    [InlineData("us", "United States")]
    [InlineData("Gb", "United Kingdom")]
    [InlineData("CI", "Côte d'Ivoire")]
    [InlineData("AX", "Åland Islands")]
    [InlineData("ZW", "Zimbabwe")]
    [InlineData("AD", "Andorra")]
    public void EnglishName_finds_assigned_codes_in_any_case(string code, string name)
    {
        Countries.EnglishName(code).Should().Be(name);
    }

    [Theory]
    [InlineData("XX")]
    [InlineData("UK")]
    [InlineData("EU")]
    [InlineData("")]
    [InlineData("D")]
    [InlineData("DEU")]
    [InlineData("D1")]
    [InlineData("\u212AE")]
    public void EnglishName_is_null_for_anything_that_is_not_an_assigned_alpha2_code(string code)
    {
        Countries.EnglishName(code).Should().BeNull();
    }

    [Fact]
    public void The_table_has_all_249_officially_assigned_codes()
    {
        var named = from first in Enumerable.Range('A', 26)
                    from second in Enumerable.Range('A', 26)
                    where Countries.EnglishName([(char)first, (char)second]) is not null
                    select 1;

        named.Count().Should().Be(249);
    }
}
