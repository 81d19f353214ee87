using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Numerics;

namespace BuildPool.Api.Units;

/// <summary>
/// Kubernetes resource quantities as byte counts: <c>100Gi</c>, <c>500M</c>, <c>1.5Ti</c>,
/// <c>1e9</c>, plain integers. Only the non-negative forms that
/// <see cref="BuildPool.Api.Schema.Patterns.Quantity"/> accepts are parsed, so a value that passed
/// CRD validation always parses here, and a hand-edited one that did not gets a reason.
/// </summary>
public static class Quantity
{
    // Long enough for any sensible byte count; bounds the big-integer work on garbage input.
    private const int MaxLength = 64;

    // Exponents beyond this overflow a long for any non-zero mantissa, so stop before the
    // power of ten gets large.
    private const int MaxExponent = 40;

    private static readonly string[] BinarySuffixes = ["Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];
    private static readonly string[] DecimalSuffixes = ["k", "M", "G", "T", "P", "E"];

    /// <summary>Parses a quantity to bytes, or explains why it is not one.</summary>
    /// <param name="text">The quantity, such as <c>100Gi</c>.</param>
    /// <param name="bytes">The byte count; fractional bytes round up, as Kubernetes does.</param>
    /// <param name="reason">
    /// Why <paramref name="text"/> was rejected, starting with the quoted value, fit to follow a
    /// field path in a Stalled condition message.
    /// </param>
    public static bool TryParse(string? text, out long bytes, [NotNullWhen(false)] out string? reason)
    {
        bytes = 0;
        reason = Check(text, out var value);
        if (reason is not null)
        {
            return false;
        }

        bytes = value;
        return true;
    }

    /// <summary>Parses a quantity to bytes.</summary>
    /// <exception cref="FormatException">The text is not a non-negative quantity that fits in a long.</exception>
    public static long Parse(string text) =>
        TryParse(text, out var bytes, out var reason) ? bytes : throw new FormatException(reason);

    /// <summary>
    /// Formats bytes with the largest binary suffix that divides them exactly (<c>100Gi</c>),
    /// or as a plain integer when none does (<c>1000</c>), so parsing the result gives the same
    /// number back.
    /// </summary>
    public static string Format(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        if (bytes == 0)
        {
            return "0";
        }

        for (var i = BinarySuffixes.Length - 1; i >= 0; i--)
        {
            var unit = 1L << (10 * (i + 1));
            if (bytes % unit == 0)
            {
                return (bytes / unit).ToString(CultureInfo.InvariantCulture) + BinarySuffixes[i];
            }
        }

        return bytes.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// A size for people to read: <see cref="Format"/> when that has a suffix, otherwise the
    /// largest binary unit with one decimal and a leading <c>~</c> (<c>~1.8Ti</c>). Not meant
    /// to be parsed back.
    /// </summary>
    public static string FormatApproximate(long bytes)
    {
        var exact = Format(bytes);
        if (bytes < 1024 || !char.IsAsciiDigit(exact[^1]))
        {
            return exact;
        }

        var i = BinarySuffixes.Length - 1;
        while ((bytes >> (10 * (i + 1))) == 0)
        {
            i--;
        }

        // decimal, not double: the rounding is exact and the same on every platform.
        var scaled = (decimal)bytes / (1L << (10 * (i + 1)));
        return "~" + scaled.ToString("0.#", CultureInfo.InvariantCulture) + BinarySuffixes[i];
    }

    private static string? Check(string? text, out long bytes)
    {
        bytes = 0;
        if (string.IsNullOrEmpty(text))
        {
            return "\"\" is not a quantity: it is empty; use a size such as 100Gi";
        }

        var quoted = "\"" + text + "\"";
        if (text.Length > MaxLength)
        {
            return $"{quoted[..20]}…\" is not a quantity: longer than {MaxLength} characters";
        }

        if (text[0] == '-')
        {
            return $"{quoted} must not be negative";
        }

        if (text.Any(char.IsWhiteSpace))
        {
            return $"{quoted} is not a quantity: it contains spaces";
        }

        // Number part: digits with an optional fraction, as in ^([0-9]+(\.[0-9]*)?|\.[0-9]+).
        var i = 0;
        var mantissa = BigInteger.Zero;
        var digits = 0;
        var scale = 0;
        var seenDot = false;
        for (; i < text.Length; i++)
        {
            var c = text[i];
            if (c is >= '0' and <= '9')
            {
                mantissa = (mantissa * 10) + (c - '0');
                digits++;
                if (seenDot)
                {
                    scale++;
                }
            }
            else if (c == '.' && !seenDot)
            {
                seenDot = true;
            }
            else
            {
                break;
            }
        }

        if (digits == 0)
        {
            return $"{quoted} is not a quantity: it must start with a number, like 100Gi";
        }

        var suffix = text[i..];
        if (!TryMultiplier(suffix, mantissa.IsZero, out var multiplier, out var suffixReason))
        {
            return $"{quoted} is not a quantity: {suffixReason}";
        }

        if (mantissa.IsZero)
        {
            return null;
        }

        // Kubernetes rounds a fractional quantity up when asked for an integer value.
        var divisor = BigInteger.Pow(10, scale);
        var value = BigInteger.DivRem(mantissa * multiplier, divisor, out var remainder);
        if (!remainder.IsZero)
        {
            value += 1;
        }

        if (value > long.MaxValue)
        {
            return $"{quoted} is too large: the most is {Format(long.MaxValue)} bytes ({long.MaxValue.ToString(CultureInfo.InvariantCulture)})";
        }

        bytes = (long)value;
        return null;
    }

    private static bool TryMultiplier(string suffix, bool zero, out BigInteger multiplier, [NotNullWhen(false)] out string? reason)
    {
        multiplier = BigInteger.One;
        reason = null;
        if (suffix.Length == 0)
        {
            return true;
        }

        var binary = Array.IndexOf(BinarySuffixes, suffix);
        if (binary >= 0)
        {
            multiplier = BigInteger.One << (10 * (binary + 1));
            return true;
        }

        var dec = Array.IndexOf(DecimalSuffixes, suffix);
        if (dec >= 0)
        {
            multiplier = BigInteger.Pow(1000, dec + 1);
            return true;
        }

        // "1E" is exa, "1E9" is an exponent: only a suffix longer than one letter is an exponent.
        if (suffix.Length > 1 && suffix[0] is 'e' or 'E' && suffix.AsSpan(1).IndexOfAnyExceptInRange('0', '9') < 0)
        {
            // Zero times any power of ten is still zero, so only a non-zero number can be too large.
            if (zero)
            {
                return true;
            }

            if (suffix.Length - 1 > 3 || int.Parse(suffix.AsSpan(1), CultureInfo.InvariantCulture) > MaxExponent)
            {
                reason = $"exponent {suffix} is too large";
                return false;
            }

            multiplier = BigInteger.Pow(10, int.Parse(suffix.AsSpan(1), CultureInfo.InvariantCulture));
            return true;
        }

        reason = suffix switch
        {
            "m" or "u" or "n" => $"suffix \"{suffix}\" is a fraction (milli, micro, nano) and bytes are whole; did you mean M?",
            "K" => "suffix \"K\" is not a unit; use k (1000) or Ki (1024)",
            "KB" or "MB" or "GB" or "TB" or "PB" or "EB" or "kB" or "KiB" or "MiB" or "GiB" or "TiB" or "PiB" or "EiB" =>
                $"suffix \"{suffix}\" is not a Kubernetes unit; drop the B, like Gi or G",
            _ when suffix.StartsWith('e') || suffix.StartsWith('E') => $"exponent \"{suffix}\" must be e followed by digits, like 1e9",
            _ => $"unknown suffix \"{suffix}\"; use Ki, Mi, Gi, Ti, Pi, Ei, k, M, G, T, P, E or an exponent like 1e9",
        };
        return false;
    }
}
