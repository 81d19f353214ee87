using System.Security.Cryptography;
using System.Text;
using k8s.Models;

namespace BuildPool.Operator.Security;

/// <summary>
/// A short hash of Secrets' data for pod template annotations: a rotated Secret changes the
/// template and so rolls the pods that mount it. One-way and truncated: it reveals nothing.
/// </summary>
public static class SecretDigest
{
    public static string Of(IEnumerable<V1Secret?> secrets)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var secret in secrets)
        {
            if (secret is null)
            {
                hash.AppendData("-\n"u8);
                continue;
            }

            hash.AppendData(Encoding.UTF8.GetBytes($"{secret.Metadata.NamespaceProperty}/{secret.Metadata.Name}\n"));
            foreach (var (key, value) in (secret.Data ?? new Dictionary<string, byte[]>()).OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                hash.AppendData(Encoding.UTF8.GetBytes($"{key}={value.Length}:"));
                hash.AppendData(value);
                hash.AppendData("\n"u8);
            }
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset().AsSpan(0, 8));
    }
}
