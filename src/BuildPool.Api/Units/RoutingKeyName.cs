namespace BuildPool.Api.Units;

/// <summary>
/// The one definition of a routing key (what a build names its project by, and what a Dedicated
/// pool writes into a CacheVolume's <c>spec.keys</c>), shared by the API schema and the gateway.
/// A key is at most <see cref="MaxLength"/> characters of lower-case letters, digits and
/// <c>-._/:</c>, starting and ending with a letter or digit. A tenant's keys are
/// <c>&lt;binding&gt;@&lt;key&gt;</c>: the <see cref="TenantSeparator"/> never appears in a key a
/// client chooses, so no client can name another tenant's key.
/// </summary>
public static class RoutingKeyName
{
    /// <summary>The longest key, tenant prefix included (the schema's limit of a <c>spec.keys</c> entry).</summary>
    public const int MaxLength = 253;

    /// <summary>Joins a tenant's binding name and a key it chose: <c>team-a@app</c>.</summary>
    public const char TenantSeparator = '@';

    /// <summary>A key as a client may name it (the schema pattern of a shared key).</summary>
    public const string Pattern = @"^[a-z0-9]([-a-z0-9._/:]*[a-z0-9])?$";

    /// <summary>What <see cref="Check"/> refuses, for messages.</summary>
    public const string Rule = "at most 253 characters of a-z, 0-9 and '-', '.', '_', '/', ':', starting and ending with a letter or digit";

    /// <summary>
    /// Null when <paramref name="key"/> (as a client chose it) is valid once a tenant prefix of
    /// <paramref name="prefixLength"/> characters is put in front of it; else why not.
    /// </summary>
    public static string? Check(string key, int prefixLength = 0)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length == 0)
        {
            return "it is empty";
        }

        if (key.Length + prefixLength > MaxLength)
        {
            return prefixLength == 0
                ? $"it is {key.Length} characters long"
                : $"it is {key.Length + prefixLength} characters long with its tenant prefix";
        }

        if (!char.IsAsciiLetterLower(key[0]) && !char.IsAsciiDigit(key[0]))
        {
            return $"it starts with '{key[0]}'";
        }

        if (!char.IsAsciiLetterLower(key[^1]) && !char.IsAsciiDigit(key[^1]))
        {
            return $"it ends with '{key[^1]}'";
        }

        foreach (var c in key)
        {
            if (!char.IsAsciiLetterLower(c) && !char.IsAsciiDigit(c) && c is not ('-' or '.' or '_' or '/' or ':'))
            {
                return char.IsControl(c) ? $"it contains U+{(int)c:X4}" : $"it contains '{c}'";
            }
        }

        return null;
    }

    /// <summary>The key of tenant <paramref name="tenant"/> (a binding name) for <paramref name="key"/>.</summary>
    public static string Scoped(string tenant, string key) => string.Concat(tenant, TenantSeparator.ToString(), key);

    /// <summary>True when <paramref name="key"/> lies in the key space of tenant <paramref name="tenant"/>.</summary>
    public static bool BelongsTo(string key, string tenant) =>
        key.Length > tenant.Length + 1 && key[tenant.Length] == TenantSeparator && key.StartsWith(tenant, StringComparison.Ordinal);
}
