using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Numerics;
using System.Text;

namespace BuildPool.Api.Units;

/// <summary>
/// Durations in Go's <c>time.ParseDuration</c> syntax (<c>30m</c>, <c>1h30m</c>, <c>90s</c>,
/// <c>48h</c>, <c>500ms</c>, <c>1.5h</c>), the form the API accepts and BuildKit reads.
/// </summary>
/// <remarks>
/// Go durations are int64 nanoseconds; <see cref="TimeSpan"/> counts 100 ns ticks, so a parsed
/// value is truncated to whole ticks. Only non-negative durations are accepted: every duration
/// in the API is a length of time.
/// </remarks>
public static class GoDuration
{
    /// <summary>The longest Go duration, <c>2562047h47m16.854775807s</c>, truncated to ticks.</summary>
    public static readonly TimeSpan MaxValue = TimeSpan.FromTicks(long.MaxValue / NanosecondsPerTick);

    private const long NanosecondsPerTick = 100;
    private const int MaxLength = 64;

    private static readonly (string Unit, long Nanoseconds)[] Units =
    [
        ("ns", 1),
        ("us", 1_000),
        ("\u00b5s", 1_000), // micro sign, what Go's String writes
        ("\u03bcs", 1_000), // Greek mu, also accepted by Go
        ("ms", 1_000_000),
        ("s", 1_000_000_000),
        ("m", 60_000_000_000),
        ("h", 3_600_000_000_000),
    ];

    /// <summary>Parses a Go duration, or explains why the text is not one.</summary>
    /// <param name="text">The duration, such as <c>1h30m</c>.</param>
    /// <param name="value">The duration, truncated to whole 100 ns ticks.</param>
    /// <param name="reason">
    /// Why <paramref name="text"/> was rejected, starting with the quoted value, fit to follow a
    /// field path in a Stalled condition message.
    /// </param>
    public static bool TryParse(string? text, out TimeSpan value, [NotNullWhen(false)] out string? reason)
    {
        value = TimeSpan.Zero;
        reason = Check(text, out var nanoseconds);
        if (reason is not null)
        {
            return false;
        }

        value = TimeSpan.FromTicks(nanoseconds / NanosecondsPerTick);
        return true;
    }

    /// <summary>Parses a Go duration.</summary>
    /// <exception cref="FormatException">The text is not a non-negative Go duration.</exception>
    public static TimeSpan Parse(string text) =>
        TryParse(text, out var value, out var reason) ? value : throw new FormatException(reason);

    /// <summary>
    /// Parses the value of a field or flag that holds a length of time that must be longer than
    /// zero (a timeout, an interval).
    /// </summary>
    /// <param name="name">The field path or flag, such as <c>spec.routing.queueTimeout</c> or <c>--queue-timeout</c>.</param>
    /// <param name="text">The duration, such as <c>5m</c>.</param>
    /// <exception cref="FormatException">
    /// The text is not a Go duration longer than zero; the message is <paramref name="name"/>, a
    /// colon and the reason, the wording a Stalled condition uses for a field.
    /// </exception>
    public static TimeSpan ParsePositive(string name, string? text)
    {
        if (!TryParse(text, out var value, out var reason))
        {
            throw new FormatException($"{name}: {reason}");
        }

        return value > TimeSpan.Zero ? value : throw new FormatException($"{name}: \"{text}\" must be longer than zero");
    }

    /// <summary>
    /// Formats a duration the way Go's <c>Duration.String</c> does, without its zero units:
    /// <c>1h30m</c> rather than <c>1h30m0s</c>, <c>48h</c>, <c>1m30s</c>, <c>1.5s</c>,
    /// <c>500ms</c>, and <c>0s</c> for zero. Microseconds are written <c>us</c> (Go accepts it)
    /// to keep rendered files ASCII.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The duration is negative or longer than <see cref="MaxValue"/>.</exception>
    public static string Format(TimeSpan value)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(value, MaxValue);
        var ns = value.Ticks * NanosecondsPerTick;
        if (ns == 0)
        {
            return "0s";
        }

        // Below a second Go switches to the largest sub-second unit, with a fraction.
        if (ns < 1_000)
        {
            return ns.ToString(CultureInfo.InvariantCulture) + "ns";
        }

        if (ns < 1_000_000)
        {
            return Fraction(ns, 1_000, 3) + "us";
        }

        if (ns < 1_000_000_000)
        {
            return Fraction(ns, 1_000_000, 6) + "ms";
        }

        var sb = new StringBuilder();
        var hours = ns / 3_600_000_000_000;
        var minutes = ns / 60_000_000_000 % 60;
        var seconds = ns % 60_000_000_000;
        if (hours > 0)
        {
            sb.Append(hours.ToString(CultureInfo.InvariantCulture)).Append('h');
        }

        if (minutes > 0)
        {
            sb.Append(minutes.ToString(CultureInfo.InvariantCulture)).Append('m');
        }

        if (seconds > 0)
        {
            sb.Append(Fraction(seconds, 1_000_000_000, 9)).Append('s');
        }

        return sb.ToString();
    }

    private static string Fraction(long ns, long unit, int digits)
    {
        var whole = (ns / unit).ToString(CultureInfo.InvariantCulture);
        var rest = ns % unit;
        if (rest == 0)
        {
            return whole;
        }

        return whole + "." + rest.ToString(CultureInfo.InvariantCulture).PadLeft(digits, '0').TrimEnd('0');
    }

    private static string? Check(string? text, out long nanoseconds)
    {
        nanoseconds = 0;
        const string Hint = "use a number and a unit (ms, s, m or h), like 1h30m";
        if (string.IsNullOrEmpty(text))
        {
            return $"\"\" is not a duration: it is empty; {Hint}";
        }

        var quoted = "\"" + text + "\"";
        if (text.Length > MaxLength)
        {
            return $"{quoted[..20]}…\" is not a duration: longer than {MaxLength} characters";
        }

        var s = text.AsSpan();
        if (s[0] == '-')
        {
            return $"{quoted} must not be negative";
        }

        if (s[0] == '+')
        {
            s = s[1..];
        }

        // Go allows a bare 0 without a unit, and nothing else without one.
        if (s is "0")
        {
            return null;
        }

        if (s.IsEmpty)
        {
            return $"{quoted} is not a duration: {Hint}";
        }

        var total = BigInteger.Zero;
        while (!s.IsEmpty)
        {
            var whole = BigInteger.Zero;
            var fraction = BigInteger.Zero;
            var scale = 0;
            var digits = 0;
            var i = 0;
            for (; i < s.Length && s[i] is >= '0' and <= '9'; i++)
            {
                whole = (whole * 10) + (s[i] - '0');
                digits++;
            }

            if (i < s.Length && s[i] == '.')
            {
                for (i++; i < s.Length && s[i] is >= '0' and <= '9'; i++)
                {
                    fraction = (fraction * 10) + (s[i] - '0');
                    scale++;
                    digits++;
                }
            }

            if (digits == 0)
            {
                return $"{quoted} is not a duration: expected a number at \"{s.ToString()}\"; {Hint}";
            }

            s = s[i..];
            var unitEnd = s.IndexOfAny("0123456789.");
            var unitText = unitEnd < 0 ? s : s[..unitEnd];
            if (unitText.IsEmpty)
            {
                return $"{quoted} is not a duration: missing unit after the number; {Hint}";
            }

            var unit = Lookup(unitText);
            if (unit == 0)
            {
                return $"{quoted} is not a duration: unknown unit \"{unitText.ToString()}\"; {Hint}";
            }

            // Go truncates the fractional part to whole nanoseconds.
            total += (whole * unit) + (fraction * unit / BigInteger.Pow(10, scale));
            if (total > long.MaxValue)
            {
                return $"{quoted} is too long: the most is {Format(MaxValue)}";
            }

            s = s[unitText.Length..];
        }

        nanoseconds = (long)total;
        return null;
    }

    private static long Lookup(ReadOnlySpan<char> unit)
    {
        foreach (var (name, ns) in Units)
        {
            if (unit.SequenceEqual(name))
            {
                return ns;
            }
        }

        return 0;
    }
}
