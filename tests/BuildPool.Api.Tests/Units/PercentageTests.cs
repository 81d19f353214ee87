using BuildPool.Api.Units;
using CsCheck;

namespace BuildPool.Api.Tests.Units;

public class PercentageTests
{
    private const long Gi = 1L << 30;

    [Theory]
    [InlineData("0%", 0)]
    [InlineData("10%", 10)]
    [InlineData("100%", 100)]
    public void Whole_percentages_parse(string text, int expected)
    {
        Assert.True(Percentage.TryParse(text, out var value, out var reason), reason);
        Assert.Equal(expected, value.Value);
        Assert.Equal(text, value.ToString());
    }

    [Theory]
    [InlineData("101%", "more than 100%")]
    [InlineData("-5%", "must not be negative")]
    [InlineData("1.5%", "whole number")]
    [InlineData("%", "whole number")]
    [InlineData("10", "must end with %")]
    [InlineData(null, "must end with %")]
    public void Other_percentages_are_rejected_with_a_reason(string? text, string expected)
    {
        Assert.False(Percentage.TryParse(text, out _, out var reason));
        Assert.Contains(expected, reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_percentage_of_a_volume_rounds_down()
    {
        Assert.Equal(10 * Gi, new Percentage(10).Of(100 * Gi));
        Assert.Equal(219_902_325_555L, new Percentage(10).Of(2048 * Gi));
        Assert.Equal(long.MaxValue, new Percentage(100).Of(long.MaxValue));
    }

    [Fact]
    public void A_percentage_never_exceeds_the_total_and_grows_with_it() =>
        Gen.Select(Gen.Int[0, 100], Gen.Long[0, long.MaxValue - 1]).Sample((p, total) =>
        {
            var percent = new Percentage(p);
            Assert.InRange(percent.Of(total), 0, total);
            Assert.True(percent.Of(total) <= percent.Of(total + 1));
        });

    [Fact]
    public void Quantity_or_percent_resolves_against_the_volume_size()
    {
        Assert.True(QuantityOrPercent.TryParse("10%", out var percent, out _));
        Assert.True(QuantityOrPercent.TryParse("20Gi", out var quantity, out _));
        Assert.Equal(10 * Gi, percent.Resolve(100 * Gi));
        Assert.Equal(20 * Gi, quantity.Resolve(100 * Gi));
        Assert.Equal("10%", percent.ToString());
        Assert.Equal("20Gi", quantity.ToString());
    }

    [Fact]
    public void Quantity_or_percent_reasons_mention_both_forms()
    {
        Assert.False(QuantityOrPercent.TryParse("lots", out _, out var reason));
        Assert.Contains("like 10%", reason, StringComparison.Ordinal);
        Assert.False(QuantityOrPercent.TryParse("120%", out _, out reason));
        Assert.Contains("more than 100%", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Quantity_or_percent_survives_format_then_parse() =>
        Gen.OneOf(
                Gen.Int[0, 100].Select(p => QuantityOrPercent.FromPercent(new Percentage(p))),
                Gen.Long[0, long.MaxValue].Select(QuantityOrPercent.FromBytes))
            .Sample(value =>
            {
                Assert.True(QuantityOrPercent.TryParse(value.ToString(), out var parsed, out var reason), reason);
                Assert.Equal(value, parsed);
            });
}
