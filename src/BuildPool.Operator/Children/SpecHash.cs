using System.Security.Cryptography;
using System.Text;
using BuildPool.Operator.Naming;
using k8s;
using k8s.Models;

namespace BuildPool.Operator.Children;

/// <summary>
/// A short hash of what the operator wants a child to be. Comparing hashes instead of objects
/// means fields the API server defaults (or other controllers add) never cause a write loop.
/// </summary>
public static class SpecHash
{
    public static string Compute(IKubernetesObject<V1ObjectMeta> desired)
    {
        ArgumentNullException.ThrowIfNull(desired);
        var annotations = desired.Metadata.Annotations;
        string? previous = null;
        if (annotations is not null && annotations.TryGetValue(WellKnown.SpecHashAnnotation, out previous))
        {
            annotations.Remove(WellKnown.SpecHashAnnotation);
        }

        try
        {
            var json = KubernetesJson.Serialize(desired);
            var hash = SHA256.HashData(Encoding.UTF8.GetBytes(json));
            return Convert.ToHexStringLower(hash.AsSpan(0, 8));
        }
        finally
        {
            if (previous is not null)
            {
                annotations![WellKnown.SpecHashAnnotation] = previous;
            }
        }
    }

    /// <summary>Stamps the hash on the object and returns it.</summary>
    public static string Stamp(IKubernetesObject<V1ObjectMeta> desired)
    {
        ArgumentNullException.ThrowIfNull(desired);
        var hash = Compute(desired);
        desired.Metadata.Annotations ??= new Dictionary<string, string>();
        desired.Metadata.Annotations[WellKnown.SpecHashAnnotation] = hash;
        return hash;
    }

    public static string? Read(IKubernetesObject<V1ObjectMeta>? obj) =>
        obj?.Metadata?.Annotations is { } a && a.TryGetValue(WellKnown.SpecHashAnnotation, out var h) ? h : null;
}
