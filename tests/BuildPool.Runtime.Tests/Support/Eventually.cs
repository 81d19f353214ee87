using Microsoft.Extensions.Time.Testing;

namespace BuildPool.Runtime.Tests.Support;

/// <summary>Waits on conditions with a deadline instead of sleeping for a fixed time.</summary>
internal static class Eventually
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    public static async Task WaitUntilAsync(Func<bool> condition, string because, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Timed out waiting until {because}.");
            }

            await Task.Delay(2);
        }
    }

    /// <summary>Moves fake time forward in <paramref name="step"/>s, letting other tasks run in between, until the condition holds.</summary>
    public static async Task AdvanceUntilAsync(FakeTimeProvider time, TimeSpan step, Func<bool> condition, string because, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Timed out waiting until {because}.");
            }

            time.Advance(step);
            await Task.Delay(2);
        }
    }

    /// <summary>Asserts that a condition stays false for a short window (for "must not happen yet" checks).</summary>
    public static async Task NeverAsync(Func<bool> condition, string what, TimeSpan? window = null)
    {
        var until = DateTime.UtcNow + (window ?? TimeSpan.FromMilliseconds(150));
        while (DateTime.UtcNow < until)
        {
            Assert.False(condition(), what);
            await Task.Delay(2);
        }
    }
}
