using System.Text.RegularExpressions;
using BuildPool.Api.Units;
using CsCheck;

namespace BuildPool.Api.Tests.Units;

public partial class GoDurationTests
{
    public static TheoryData<string, TimeSpan> Durations => new()
    {
        { "30m", TimeSpan.FromMinutes(30) },
        { "1h30m", TimeSpan.FromMinutes(90) },
        { "90s", TimeSpan.FromSeconds(90) },
        { "48h", TimeSpan.FromHours(48) },
        { "500ms", TimeSpan.FromMilliseconds(500) },
        { "1.5h", TimeSpan.FromMinutes(90) },
        { ".5s", TimeSpan.FromMilliseconds(500) },
        { "1h0m0s", TimeSpan.FromHours(1) },
        { "0", TimeSpan.Zero },
        { "0s", TimeSpan.Zero },
        { "+5s", TimeSpan.FromSeconds(5) },
        { "100us", TimeSpan.FromTicks(1000) },
        { "100\u00b5s", TimeSpan.FromTicks(1000) },
        { "250ns", TimeSpan.FromTicks(2) },
        { "1440h", TimeSpan.FromDays(60) },
        { "2562047h47m16.854775807s", GoDuration.MaxValue },
    };

    [Theory]
    [MemberData(nameof(Durations))]
    public void Go_durations_parse_to_time_spans(string text, TimeSpan expected)
    {
        Assert.True(GoDuration.TryParse(text, out var parsed, out var reason), reason);
        Assert.Equal(expected, parsed);
    }

    [Theory]
    [InlineData("-5m", "must not be negative")]
    [InlineData("30", "missing unit")]
    [InlineData("5d", "unknown unit \"d\"")]
    [InlineData("1h30", "missing unit")]
    [InlineData("h", "expected a number")]
    [InlineData("", "it is empty")]
    [InlineData(null, "it is empty")]
    [InlineData("1 h", "unknown unit \" h\"")]
    [InlineData("2562048h", "too long")]
    public void Malformed_and_negative_durations_are_rejected_with_a_reason(string? text, string expected)
    {
        Assert.False(GoDuration.TryParse(text, out _, out var reason));
        Assert.Contains(expected, reason, StringComparison.Ordinal);
        Assert.StartsWith("\"" + (text ?? ""), reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("spec.routing.queueTimeout", "5d", "spec.routing.queueTimeout: \"5d\" is not a duration: unknown unit \"d\"")]
    [InlineData("--queue-timeout", "0s", "--queue-timeout: \"0s\" must be longer than zero")]
    [InlineData("spec.scaling.startTimeout", null, "spec.scaling.startTimeout: \"\" is not a duration: it is empty")]
    public void A_timeout_that_is_not_a_positive_duration_is_refused_naming_its_field_or_flag(string name, string? text, string expected)
    {
        var error = Assert.Throws<FormatException>(() => GoDuration.ParsePositive(name, text));
        Assert.StartsWith(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_positive_timeout_is_read_as_a_duration() =>
        Assert.Equal(TimeSpan.FromSeconds(90), GoDuration.ParsePositive("--queue-timeout", "1m30s"));

    public static TheoryData<TimeSpan, string> Formats => new()
    {
        { TimeSpan.Zero, "0s" },
        { TimeSpan.FromMinutes(90), "1h30m" },
        { TimeSpan.FromHours(48), "48h" },
        { TimeSpan.FromSeconds(90), "1m30s" },
        { TimeSpan.FromMinutes(30), "30m" },
        { TimeSpan.FromMilliseconds(500), "500ms" },
        { TimeSpan.FromMilliseconds(1500), "1.5s" },
        { TimeSpan.FromHours(1) + TimeSpan.FromMilliseconds(500), "1h0.5s" },
        { TimeSpan.FromTicks(15), "1.5us" },
        { TimeSpan.FromTicks(1), "100ns" },
        { TimeSpan.FromDays(60), "1440h" },
        { GoDuration.MaxValue, "2562047h47m16.8547758s" },
    };

    [Theory]
    [MemberData(nameof(Formats))]
    public void Durations_format_as_Go_writes_them_without_zero_units(TimeSpan value, string expected) =>
        Assert.Equal(expected, GoDuration.Format(value));

    [Fact]
    public void Negative_durations_cannot_be_formatted() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => GoDuration.Format(TimeSpan.FromSeconds(-1)));

    [Fact]
    public void Any_duration_survives_format_then_parse() =>
        Gen.Long[0, GoDuration.MaxValue.Ticks].Sample(ticks =>
        {
            var value = TimeSpan.FromTicks(ticks);
            Assert.Equal(value, GoDuration.Parse(GoDuration.Format(value)));
        });

    [Fact]
    public void Whole_seconds_format_in_hours_minutes_and_seconds_only() =>
        Gen.Long[1, 10_000_000].Sample(seconds =>
        {
            var text = GoDuration.Format(TimeSpan.FromSeconds(seconds));
            Assert.Matches(HoursMinutesSeconds(), text);
        });

    [GeneratedRegex(@"^([1-9][0-9]*h)?([1-9][0-9]?m)?([1-9][0-9]?s)?$")]
    private static partial Regex HoursMinutesSeconds();
}
