using System.Diagnostics.CodeAnalysis;

namespace BuildPool.Api.Units;

/// <summary>
/// A size given either as a quantity (<c>20Gi</c>) or as a percentage of a total (<c>10%</c>),
/// the form of the GC limits and auto-grow step
/// (<see cref="BuildPool.Api.Schema.Patterns.QuantityOrPercent"/>).
/// </summary>
public readonly record struct QuantityOrPercent
{
    private QuantityOrPercent(long? bytes, Percentage? percent)
    {
        Bytes = bytes;
        Percent = percent;
    }

    /// <summary>The absolute size, when the value is a quantity.</summary>
    public long? Bytes { get; }

    /// <summary>The share of the total, when the value is a percentage.</summary>
    public Percentage? Percent { get; }

    /// <summary>An absolute size.</summary>
    public static QuantityOrPercent FromBytes(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        return new(bytes, null);
    }

    /// <summary>A share of the total.</summary>
    public static QuantityOrPercent FromPercent(Percentage percent) => new(null, percent);

    /// <summary>
    /// The size in bytes: the quantity itself, or the percentage of <paramref name="totalBytes"/>
    /// rounded down.
    /// </summary>
    public long Resolve(long totalBytes) => Percent is { } p ? p.Of(totalBytes) : Bytes ?? 0;

    /// <summary>Parses <c>10%</c> or <c>20Gi</c>, or explains why the text is neither.</summary>
    /// <param name="text">The text to parse.</param>
    /// <param name="value">The parsed value.</param>
    /// <param name="reason">Why the text was rejected, starting with the quoted value.</param>
    public static bool TryParse(string? text, out QuantityOrPercent value, [NotNullWhen(false)] out string? reason)
    {
        value = default;
        if (text is not null && text.EndsWith('%'))
        {
            if (!Percentage.TryParse(text, out var percent, out reason))
            {
                return false;
            }

            value = FromPercent(percent);
            return true;
        }

        if (!Quantity.TryParse(text, out var bytes, out reason))
        {
            // The quantity parser does not know a percentage was also allowed here.
            reason += " (or give a whole percentage of the volume, like 10%)";
            return false;
        }

        value = FromBytes(bytes);
        return true;
    }

    /// <summary>The value as the API writes it: <c>10%</c>, or the quantity with its largest exact binary suffix.</summary>
    public override string ToString() => Percent is { } p ? p.ToString() : Quantity.Format(Bytes ?? 0);
}
