using BuildPool.Api.Units;
using CsCheck;

namespace BuildPool.Api.Tests.Units;

public class QuantityTests
{
    [Theory]
    [InlineData("100Gi", 107_374_182_400L)]
    [InlineData("500M", 500_000_000L)]
    [InlineData("1.5Ti", 1_649_267_441_664L)]
    [InlineData("1e9", 1_000_000_000L)]
    [InlineData("1E9", 1_000_000_000L)]
    [InlineData("2E", 2_000_000_000_000_000_000L)]
    [InlineData("1073741824", 1_073_741_824L)]
    [InlineData("0", 0L)]
    [InlineData("0e99", 0L)]
    [InlineData(".5Ki", 512L)]
    [InlineData("5.", 5L)]
    [InlineData("1k", 1_000L)]
    [InlineData("7Ei", 8_070_450_532_247_928_832L)]
    [InlineData("9223372036854775807", long.MaxValue)]
    public void Kubernetes_quantities_parse_to_bytes(string text, long bytes)
    {
        Assert.True(Quantity.TryParse(text, out var parsed, out var reason), reason);
        Assert.Equal(bytes, parsed);
    }

    [Fact]
    public void Fractional_bytes_round_up_as_Kubernetes_does()
    {
        Assert.Equal(2, Quantity.Parse("1.5"));
        Assert.Equal(2, Quantity.Parse("1.001"));
        Assert.Equal(1, Quantity.Parse("0.1"));
    }

    [Theory]
    [InlineData("-1Gi", "must not be negative")]
    [InlineData("1GB", "drop the B")]
    [InlineData("1K", "use k (1000) or Ki (1024)")]
    [InlineData("100m", "did you mean M?")]
    [InlineData("1Gb", "unknown suffix \"Gb\"")]
    [InlineData("abc", "must start with a number")]
    [InlineData("Gi", "must start with a number")]
    [InlineData("", "it is empty")]
    [InlineData(null, "it is empty")]
    [InlineData("1 Gi", "contains spaces")]
    [InlineData("1.2.3", "unknown suffix \".3\"")]
    [InlineData("1e", "exponent \"e\" must be e followed by digits")]
    [InlineData("1e-3", "exponent \"e-3\" must be e followed by digits")]
    [InlineData("8Ei", "too large")]
    [InlineData("1e999", "too large")]
    public void Malformed_and_negative_quantities_are_rejected_with_a_reason(string? text, string expected)
    {
        Assert.False(Quantity.TryParse(text, out _, out var reason));
        Assert.Contains(expected, reason, StringComparison.Ordinal);
        Assert.StartsWith("\"" + (text ?? ""), reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_throws_a_format_exception_carrying_the_reason()
    {
        var error = Assert.Throws<FormatException>(() => Quantity.Parse("-5Gi"));
        Assert.Equal("\"-5Gi\" must not be negative", error.Message);
    }

    [Theory]
    [InlineData(0L, "0")]
    [InlineData(1L, "1")]
    [InlineData(1000L, "1000")]
    [InlineData(1024L, "1Ki")]
    [InlineData(1536L, "1536")]
    [InlineData(107_374_182_400L, "100Gi")]
    [InlineData(1_649_267_441_664L, "1536Gi")]
    [InlineData(4_611_686_018_427_387_904L, "4Ei")]
    [InlineData(long.MaxValue, "9223372036854775807")]
    public void Bytes_format_with_the_largest_exact_binary_suffix(long bytes, string expected) =>
        Assert.Equal(expected, Quantity.Format(bytes));

    [Theory]
    [InlineData(1000L, "1000")]
    [InlineData(107_374_182_400L, "100Gi")]
    [InlineData(1_979_120_929_997L, "~1.8Ti")]
    [InlineData(109_951_162_777L, "~102.4Gi")]
    [InlineData(1025L, "~1Ki")]
    public void Approximate_sizes_are_exact_when_they_can_be_and_marked_when_not(long bytes, string expected) =>
        Assert.Equal(expected, Quantity.FormatApproximate(bytes));

    [Fact]
    public void Formatting_negative_bytes_is_a_programming_error() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Quantity.Format(-1));

    [Fact]
    public void Any_byte_count_survives_format_then_parse() =>
        Gen.Long[0, long.MaxValue].Sample(bytes => Assert.Equal(bytes, Quantity.Parse(Quantity.Format(bytes))));

    [Fact]
    public void Multiples_of_a_binary_unit_format_with_that_unit_or_a_larger_one() =>
        Gen.Select(Gen.Long[1, 1L << 20], Gen.Int[1, 4]).Sample((multiple, power) =>
        {
            var bytes = multiple << (10 * power);
            var text = Quantity.Format(bytes);
            Assert.Equal(bytes, Quantity.Parse(text));
            Assert.True(text.EndsWith('i'), $"{bytes} formatted as {text}");
        });

    [Fact]
    public void Plain_integers_and_decimal_exponents_parse_to_the_same_bytes() =>
        Gen.Long[0, long.MaxValue / 1000].Sample(bytes =>
        {
            Assert.Equal(bytes, Quantity.Parse(bytes.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            Assert.Equal(bytes * 1000, Quantity.Parse(bytes.ToString(System.Globalization.CultureInfo.InvariantCulture) + "e3"));
            Assert.Equal(bytes * 1000, Quantity.Parse(bytes.ToString(System.Globalization.CultureInfo.InvariantCulture) + "k"));
        });
}
