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

    /// <summary>
    /// On a Private CacheVolume: how many overflow forks the gateway wants for it (a whole
    /// number), because its builder is at maxConcurrentBuilds and builds wait. The operator
    /// creates up to that many within spec.cache.forks limits while <see cref="ForksWantedAt"/>
    /// is younger than the fork idle timeout.
    /// </summary>
    public const string ForksWanted = "buildpool.dev/forks-wanted";

    /// <summary>On a Private CacheVolume: when the gateway last wrote <see cref="ForksWanted"/> (RFC 3339).</summary>
    public const string ForksWantedAt = "buildpool.dev/forks-wanted-at";

    /// <summary>On a CacheVolume: one annotation per untrusted build that needs an isolated fork of it.</summary>
    public const string IsolatePrefix = "isolate.buildpool.dev/";

    /// <summary>
    /// <c>isolate.buildpool.dev/&lt;id&gt;</c>, whose value is the RFC 3339 time it was asked for.
    /// The gateway removes it when the build ends; the operator then drains and deletes the fork.
    /// </summary>
    public static string Isolate(string id)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        return IsolatePrefix + id;
    }

    /// <summary>Label on a fork CacheVolume (written by the operator): the name of the volume it was cloned from.</summary>
    public const string ForkOfLabel = "buildpool.dev/fork-of";

    /// <summary>Label on an isolated fork (written by the operator): the id of the one untrusted build it serves.</summary>
    public const string IsolatedForLabel = "buildpool.dev/isolated-for";

    /// <summary>The annotation value for a time: RFC 3339 in UTC, to the second.</summary>
    public static string Timestamp(DateTimeOffset at) =>
        at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
