using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace BuildPool.Api.V1Alpha1;

/// <summary>
/// The annotations the gateway writes for the operator (docs/lifecycle.md): the whole protocol
/// between the two, defined once here where both can see it.
/// </summary>
public static class LifecycleAnnotations
{
    /// <summary>On a CacheVolume: a build waits for its stopped builder (RFC 3339 time).</summary>
    public const string Demand = "buildpool.dev/demand";

    /// <summary>On a CacheVolume: a build used it at that time (RFC 3339), at most once a minute.</summary>
    public const string LastUsed = "buildpool.dev/last-used";

    /// <summary>On a Dedicated BuilderPool: one annotation per key that needs a volume.</summary>
    public const string DedicatedDemandPrefix = "demand.buildpool.dev/";

    /// <summary><c>demand.buildpool.dev/&lt;first 16 hex of SHA-256(key)&gt;</c>, whose value is the key.</summary>
    public static string DedicatedDemand(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return DedicatedDemandPrefix + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..16];
    }

    /// <summary>The annotation value for a time: RFC 3339 in UTC, to the second.</summary>
    public static string Timestamp(DateTimeOffset at) =>
        at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
