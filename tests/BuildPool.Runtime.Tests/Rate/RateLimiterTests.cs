using BuildPool.Runtime.Rate;
using Microsoft.Extensions.Time.Testing;

namespace BuildPool.Runtime.Tests.Rate;

public sealed class RateLimiterTests
{
    [Fact]
    public void Per_item_backoff_doubles_from_5ms_and_caps_at_1000s()
    {
        var limiter = new ItemExponentialFailureRateLimiter<string>();

        Assert.Equal(TimeSpan.FromMilliseconds(5), limiter.When("a"));
        Assert.Equal(TimeSpan.FromMilliseconds(10), limiter.When("a"));
        Assert.Equal(TimeSpan.FromMilliseconds(20), limiter.When("a"));
        Assert.Equal(TimeSpan.FromMilliseconds(5), limiter.When("b"));

        for (var i = 0; i < 100; i++)
        {
            limiter.When("a");
        }

        Assert.Equal(TimeSpan.FromSeconds(1000), limiter.When("a"));
        Assert.Equal(104, limiter.NumRequeues("a"));
    }

    [Fact]
    public void Forget_resets_an_items_backoff_without_touching_others()
    {
        var limiter = new ItemExponentialFailureRateLimiter<string>();
        limiter.When("a");
        limiter.When("a");
        limiter.When("b");

        limiter.Forget("a");

        Assert.Equal(0, limiter.NumRequeues("a"));
        Assert.Equal(TimeSpan.FromMilliseconds(5), limiter.When("a"));
        Assert.Equal(TimeSpan.FromMilliseconds(10), limiter.When("b"));
    }

    [Fact]
    public void Token_bucket_allows_a_burst_of_100_then_10_per_second()
    {
        var time = new FakeTimeProvider();
        var limiter = new BucketRateLimiter<string>(time);

        for (var i = 0; i < 100; i++)
        {
            Assert.Equal(TimeSpan.Zero, limiter.When($"item{i}"));
        }

        Assert.Equal(TimeSpan.FromMilliseconds(100), limiter.When("x"));
        Assert.Equal(TimeSpan.FromMilliseconds(200), limiter.When("y"));

        // 1 s refills 10 tokens; two were borrowed above.
        time.Advance(TimeSpan.FromSeconds(1));
        for (var i = 0; i < 8; i++)
        {
            Assert.Equal(TimeSpan.Zero, limiter.When($"later{i}"));
        }

        Assert.True(limiter.When("z") > TimeSpan.Zero);
    }

    [Fact]
    public void Token_bucket_never_holds_more_than_the_burst()
    {
        var time = new FakeTimeProvider();
        var limiter = new BucketRateLimiter<string>(time, qps: 10, burst: 5);
        time.Advance(TimeSpan.FromHours(1));

        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(TimeSpan.Zero, limiter.When("a"));
        }

        Assert.Equal(TimeSpan.FromMilliseconds(100), limiter.When("a"));
    }

    [Fact]
    public void The_default_controller_limiter_waits_as_long_as_its_strictest_part()
    {
        var time = new FakeTimeProvider();
        var limiter = RateLimiters.DefaultController<string>(time);

        Assert.Equal(TimeSpan.FromMilliseconds(5), limiter.When("a"));

        // Drain the bucket with other items: then the bucket, not the per-item backoff, decides.
        for (var i = 0; i < 99; i++)
        {
            limiter.When($"other{i}");
        }

        Assert.Equal(TimeSpan.FromMilliseconds(100), limiter.When("fresh"));
        Assert.Equal(1, limiter.NumRequeues("fresh"));
        limiter.Forget("fresh");
        Assert.Equal(0, limiter.NumRequeues("fresh"));
    }
}
