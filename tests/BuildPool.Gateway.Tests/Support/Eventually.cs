namespace BuildPool.Gateway.Tests.Support;

/// <summary>Waits for a condition with a deadline instead of sleeping a fixed time.</summary>
internal static class Eventually
{
    public static async Task TrueAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out waiting until {what}.");
            }

            await Task.Delay(5);
        }
    }

    public static Task<T> Within<T>(this Task<T> task, int seconds = 10) => task.WaitAsync(TimeSpan.FromSeconds(seconds));

    public static Task Within(this Task task, int seconds = 10) => task.WaitAsync(TimeSpan.FromSeconds(seconds));
}
