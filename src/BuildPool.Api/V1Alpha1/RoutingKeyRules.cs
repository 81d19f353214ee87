using BuildPool.Api.Schema;

namespace BuildPool.Api.V1Alpha1;

/// <summary>
/// What a routing key may be to become a CacheVolume's <c>spec.keys</c> entry: the CRD's limit
/// (<see cref="Limits.NameLength"/> characters) and printable characters without spaces. Checked
/// where a key turns into an object, so one bad key is refused on its own instead of failing the
/// whole write it is part of.
/// </summary>
public static class RoutingKeyRules
{
    /// <summary>Longest key a volume can pin (the schema's <c>spec.keys</c> item limit).</summary>
    public const int MaxLength = Limits.NameLength;

    /// <summary>Why <paramref name="key"/> cannot be a volume's key; null when it can.</summary>
    public static string? Problem(string? key)
    {
        if (string.IsNullOrEmpty(key))
        {
            return "the key is empty";
        }

        if (key.Length > MaxLength)
        {
            return $"the key is {key.Length} characters long, over the limit of {MaxLength}";
        }

        foreach (var c in key)
        {
            if (char.IsControl(c) || char.IsWhiteSpace(c) || char.IsSurrogate(c))
            {
                return $"the key contains the character U+{(int)c:X4}, which keys may not contain";
            }
        }

        return null;
    }
}
