namespace BuildPool.Lint.Rules;

/// <summary>
/// A package manager: the ecosystem whose dependencies it resolves (for "sources before
/// dependencies") and the directories it caches downloads in (for cache mounts), with the mount
/// to suggest. No cache directories means the cache-mount rule leaves it alone.
/// </summary>
internal sealed record PackageManager(string Name, string Ecosystem, IReadOnlyList<string> CacheDirectories, string SuggestedMount)
{
    public bool Caches => CacheDirectories.Count > 0;

    /// <summary>A mount covers this manager when its target is one of the cache directories, inside one, or holds one.</summary>
    public bool IsCoveredBy(string target)
    {
        var t = target.TrimEnd('/');
        return CacheDirectories.Any(d => d == t || d.StartsWith(t + "/", StringComparison.Ordinal) || t.StartsWith(d + "/", StringComparison.Ordinal));
    }
}
