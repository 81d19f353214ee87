using System.Security.Cryptography;
using System.Text;

namespace BuildPool.Operator.Naming;

/// <summary>
/// How the gateway asks a Dedicated pool for a volume for a new routing key: it merge-patches one
/// annotation per key onto the BuilderPool, <c>demand.buildpool.dev/&lt;hash&gt;: &lt;key&gt;</c>.
/// One annotation per key means gateway replicas never overwrite each other's requests; the
/// operator removes the annotation once the key has its volume.
/// </summary>
public static class DedicatedKeys
{
    public const string DemandPrefix = Api.V1Alpha1.LifecycleAnnotations.DedicatedDemandPrefix;

    public static string DemandAnnotation(string key) => Api.V1Alpha1.LifecycleAnnotations.DedicatedDemand(key);

    /// <summary>A stable volume name for a key: the same key always maps to the same volume.</summary>
    public static string VolumeName(string pool, string key) => $"{pool}-k{Hash(key, 10)}";

    private static string Hash(string key, int hexChars)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..hexChars];
    }
}
