using System.Globalization;

namespace BuildPool.Benchmarks.Report;

/// <summary>Number formatting for the tables: invariant culture, units spelled out.</summary>
internal static class Format
{
    public static string Percent(double fraction, int decimals = 2) =>
        (fraction * 100).ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture) + " %";

    public static string Number(double value, int decimals = 2) => value.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    public static string Ratio(double value) => value.ToString("F2", CultureInfo.InvariantCulture) + "×";

    public static string Micros(double microseconds) =>
        microseconds < 1000 ? Number(microseconds, 1) + " µs" : Number(microseconds / 1000, 2) + " ms";

    public static string Nanos(double nanoseconds) => Number(nanoseconds, 1) + " ns";

    public static string Bytes(double bytes) => bytes switch
    {
        < 1024 => Number(bytes, 0) + " B",
        < 1024 * 1024 => Number(bytes / 1024, 1) + " KiB",
        < 1024L * 1024 * 1024 => Number(bytes / (1024 * 1024), 1) + " MiB",
        _ => Number(bytes / (1024.0 * 1024 * 1024), 2) + " GiB",
    };

    public static string Seconds(TimeSpan elapsed) => Number(elapsed.TotalSeconds, 1) + " s";

    /// <summary>A goal beside the measured value, never a verdict that fails the run.</summary>
    public static string Goal(bool met, string goal) => (met ? "met" : "NOT met") + " (" + goal + ")";
}
