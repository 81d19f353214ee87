using System.Security.Cryptography;
using System.Text;

namespace BuildPool.Api.V1Alpha1;

/// <summary>
/// What makes a CacheVolume a fork, read alike by the operator (whose forks' claims are deleted
/// with them) and the gateway (which sends a base's overflow and untrusted builds to its forks).
/// A fork is what the operator created as one: its name (which never changes) is a fork name of
/// the base its <c>fork-of</c> label names, and the base CacheVolume is its controller. A label
/// alone proves nothing: anyone who may edit a volume can add it.
/// </summary>
public static class CacheVolumeForks
{
    /// <summary>Longest CacheVolume name: its builder Service is "&lt;volume&gt;-builder", a DNS label.</summary>
    public const int MaxVolumeNameLength = 63 - 8;

    /// <summary>Overflow forks a volume can have at most, whatever a pool asks.</summary>
    public const int MaxOverflowForks = 64;

    /// <summary>Overflow fork <paramref name="index"/> of a volume: <c>&lt;volume&gt;-f&lt;index&gt;</c>.</summary>
    public static string OverflowName(string volume, int index) => Fitted(volume, $"-f{index}");

    /// <summary>The isolated fork of a volume for one untrusted build: <c>&lt;volume&gt;-i&lt;build id&gt;</c>.</summary>
    public static string IsolatedName(string volume, string id) => Fitted(volume, $"-i{id}");

    /// <summary>The base of a fork; null for any other volume, whatever its labels say.</summary>
    public static string? BaseOf(CacheVolume volume)
    {
        ArgumentNullException.ThrowIfNull(volume);
        if (volume.Metadata?.Labels?.TryGetValue(LifecycleAnnotations.ForkOfLabel, out var baseName) != true || string.IsNullOrEmpty(baseName))
        {
            return null;
        }

        var owner = volume.Metadata.OwnerReferences?.FirstOrDefault(o => o.Controller == true);
        if (owner is not { Kind: CacheVolume.KubeKind } || owner.Name != baseName)
        {
            return null;
        }

        var name = volume.Metadata.Name;
        var named = IsolatedFor(volume) is { } id ? name == IsolatedName(baseName, id) : IsOverflowName(baseName, name);
        return named ? baseName : null;
    }

    /// <summary>The untrusted build id an isolated fork's label names (meaningful only when <see cref="BaseOf"/> is not null).</summary>
    public static string? IsolatedFor(CacheVolume volume)
    {
        ArgumentNullException.ThrowIfNull(volume);
        return volume.Metadata?.Labels?.TryGetValue(LifecycleAnnotations.IsolatedForLabel, out var id) == true && !string.IsNullOrEmpty(id) ? id : null;
    }

    /// <summary>Whether <paramref name="forkName"/> is the name of one of <paramref name="baseName"/>'s overflow forks.</summary>
    public static bool IsOverflowName(string baseName, string forkName)
    {
        for (var i = 0; i < MaxOverflowForks; i++)
        {
            if (OverflowName(baseName, i) == forkName)
            {
                return true;
            }
        }

        return false;
    }

    // A fork's name must leave room for "-builder" like any volume's; a long base name is cut and
    // a hash of it keeps forks of different long names apart.
    private static string Fitted(string volume, string suffix)
    {
        if (volume.Length + suffix.Length <= MaxVolumeNameLength)
        {
            return volume + suffix;
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(volume)))[..6];
        var keep = MaxVolumeNameLength - suffix.Length - hash.Length - 1;
        return $"{volume[..keep].TrimEnd('-')}-{hash}{suffix}";
    }
}
