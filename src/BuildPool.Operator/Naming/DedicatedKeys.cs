using System.Security.Cryptography;
using System.Text;

namespace BuildPool.Operator.Naming;

/// <summary>
/// Names of a Dedicated pool's volumes. The gateway asks for a volume for a new routing key with
/// a demand signal on the pool's signal Lease (<see cref="Api.V1Alpha1.GatewaySignals.Demand"/>);
/// the operator removes the signal once the key has its volume or it drops the demand.
/// </summary>
public static class DedicatedKeys
{
    /// <summary>A stable volume name for a key: the same key always maps to the same volume.</summary>
    public static string VolumeName(string pool, string key) => $"{pool}-k{Hash(key, 10)}";

    private static string Hash(string key, int hexChars)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..hexChars];
    }
}
