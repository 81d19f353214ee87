namespace BuildPool.Operator.Status;

/// <summary>
/// Times written into status are whole seconds: the API stores RFC 3339 seconds, and a
/// sub-second value would differ from what the cache reads back, so every reconcile would
/// see a "changed" status and write it again.
/// </summary>
public static class StatusClock
{
    public static DateTime Now(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        return Truncate(time.GetUtcNow().UtcDateTime);
    }

    public static DateTime Truncate(DateTime time) =>
        new(time.Ticks - (time.Ticks % TimeSpan.TicksPerSecond), DateTimeKind.Utc);
}
