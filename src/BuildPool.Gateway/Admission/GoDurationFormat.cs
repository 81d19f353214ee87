using System.Globalization;

namespace BuildPool.Gateway.Admission;

// Go's time.Duration.String() shape ("5m0s", "1h0m0s", "1.5s", "250ms"): the pool spec writes
// durations that way, so errors echo them the same way. Whole milliseconds are enough here.
internal static class GoDurationFormat
{
    public static string Format(TimeSpan duration)
    {
        var ms = (long)Math.Round(duration.TotalMilliseconds);
        if (ms == 0)
        {
            return "0s";
        }

        var sign = ms < 0 ? "-" : string.Empty;
        ms = Math.Abs(ms);
        if (ms < 1000)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{sign}{ms}ms");
        }

        var hours = ms / 3_600_000;
        var minutes = ms / 60_000 % 60;
        var seconds = ms % 60_000 / 1000.0;
        var secondsText = seconds.ToString("0.###", CultureInfo.InvariantCulture) + "s";
        if (hours > 0)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{sign}{hours}h{minutes}m{secondsText}");
        }

        return minutes > 0
            ? string.Create(CultureInfo.InvariantCulture, $"{sign}{minutes}m{secondsText}")
            : sign + secondsText;
    }
}
