using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace BuildPool.Api.Units;

/// <summary>
/// A whole percentage from 0% to 100%, as <see cref="BuildPool.Api.Schema.Patterns.Percent"/>
/// accepts, taken of a volume size.
/// </summary>
public readonly record struct Percentage
{
    /// <summary>Creates a percentage.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="value"/> is outside 0–100.</exception>
    public Percentage(int value)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 100);
        Value = value;
    }

    /// <summary>The percentage, 0 to 100.</summary>
    public int Value { get; }

    /// <summary>
    /// This percentage of <paramref name="totalBytes"/>, rounded down: a limit taken of a volume
    /// never asks for more than the volume has, and the result is the same on every run.
    /// </summary>
    public long Of(long totalBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(totalBytes);

        // Int128 because totalBytes * 100 overflows a long above about 92 PB.
        return (long)((Int128)totalBytes * Value / 100);
    }

    /// <summary>Parses <c>10%</c>, or explains why the text is not a whole percentage.</summary>
    /// <param name="text">The percentage, such as <c>10%</c>.</param>
    /// <param name="value">The parsed percentage.</param>
    /// <param name="reason">Why the text was rejected, starting with the quoted value.</param>
    public static bool TryParse(string? text, out Percentage value, [NotNullWhen(false)] out string? reason)
    {
        value = default;
        var quoted = "\"" + text + "\"";
        if (string.IsNullOrEmpty(text) || text[^1] != '%')
        {
            reason = $"{quoted} is not a percentage: it must end with %, like 10%";
            return false;
        }

        var number = text.AsSpan(0, text.Length - 1);
        if (number.Length > 0 && number[0] == '-')
        {
            reason = $"{quoted} must not be negative";
            return false;
        }

        if (number.Length is 0 or > 3 || number.IndexOfAnyExceptInRange('0', '9') >= 0)
        {
            reason = $"{quoted} is not a percentage: use a whole number from 0% to 100%";
            return false;
        }

        var parsed = int.Parse(number, NumberStyles.None, CultureInfo.InvariantCulture);
        if (parsed > 100)
        {
            reason = $"{quoted} is more than 100%";
            return false;
        }

        value = new Percentage(parsed);
        reason = null;
        return true;
    }

    /// <summary>The percentage as the API writes it, like <c>10%</c>.</summary>
    public override string ToString() => Value.ToString(CultureInfo.InvariantCulture) + "%";
}
