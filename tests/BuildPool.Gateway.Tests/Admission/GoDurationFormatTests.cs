using BuildPool.Gateway.Admission;

namespace BuildPool.Gateway.Tests.Admission;

public sealed class GoDurationFormatTests
{
    [Theory]
    [InlineData(0, "0s")]
    [InlineData(250, "250ms")]
    [InlineData(1_500, "1.5s")]
    [InlineData(30_000, "30s")]
    [InlineData(90_000, "1m30s")]
    [InlineData(300_000, "5m0s")]
    [InlineData(3_600_000, "1h0m0s")]
    [InlineData(5_430_250, "1h30m30.25s")]
    [InlineData(-2_000, "-2s")]
    public void Durations_read_as_in_a_pool_spec(long milliseconds, string expected)
    {
        Assert.Equal(expected, GoDurationFormat.Format(TimeSpan.FromMilliseconds(milliseconds)));
    }
}
