using BuildPool.Gateway.Discovery;

namespace BuildPool.Gateway.Tests.Discovery;

public sealed class SignalRetryTests
{
    private static readonly SignalRetryOptions Options = new();

    public static TheoryData<string, int, bool, double, double> Cases() => new()
    {
        { "The first failure waits between a quarter and half a second", 1, false, 0, 0.25 },
        { "The first failure with the most jitter waits half a second", 1, false, 0.999999, 0.5 },
        { "Each failure in a row doubles the wait", 4, false, 0, 2 },
        { "Failures other than 403 wait at most 30 s", 20, false, 0.999999, 30 },
        { "A 403 waits 5 to 10 s from the first", 1, true, 0, 5 },
        { "A 403 doubles as well", 3, true, 0.5, 30 },
        { "A 403 waits at most 5 minutes", 50, true, 0.999999, 300 },
        { "A thousand failures do not overflow the doubling", 1000, false, 0, 15 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Delay_follows_the_backoff(string because, int failures, bool forbidden, double jitter, double seconds)
    {
        Assert.True(Math.Abs(SignalRetry.Delay(failures, forbidden, jitter, Options).TotalSeconds - seconds) < 0.001, because);
    }

    [Fact]
    public void Jitter_spreads_the_wait_over_its_upper_half()
    {
        var waits = Enumerable.Range(0, 100).Select(i => SignalRetry.Delay(3, forbidden: true, i / 100.0, Options)).ToList();

        Assert.Equal(TimeSpan.FromSeconds(20), waits.Min());
        Assert.InRange(waits.Max(), TimeSpan.FromSeconds(39.5), TimeSpan.FromSeconds(40));
        Assert.Equal(100, waits.Distinct().Count());
    }
}
