namespace BuildPool.Operator.Rendering;

/// <summary>Which generation of <c>buildkitd.toml</c> GC fields a file is written in.</summary>
public enum BuildkitdConfigDialect
{
    /// <summary>
    /// Before BuildKit 0.17: <c>gckeepstorage</c> (MB) and per-policy <c>keepBytes</c>,
    /// <c>keepDuration</c> and history <c>maxAge</c> in seconds.
    /// </summary>
    KeepBytes,

    /// <summary>
    /// BuildKit 0.17 and later: <c>reservedSpace</c>, <c>maxUsedSpace</c>, <c>minFreeSpace</c>
    /// in bytes, durations as Go duration strings.
    /// </summary>
    ReservedSpace,
}
