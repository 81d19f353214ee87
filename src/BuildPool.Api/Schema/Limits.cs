namespace BuildPool.Api.Schema;

/// <summary>
/// Upper bounds on list and string sizes. The API server needs them to bound CEL rule cost,
/// and they keep one object far below etcd's size limit.
/// </summary>
public static class Limits
{
    /// <summary>Longest Kubernetes object name (DNS subdomain).</summary>
    public const int NameLength = 253;

    /// <summary>Longest DNS label (namespace, Service-derived names).</summary>
    public const int LabelLength = 63;

    /// <summary>Longest free-text string such as a condition message or an image reference.</summary>
    public const int TextLength = 1024;

    /// <summary>Most items in a short list (platforms, mirrors, key sources).</summary>
    public const int ShortList = 16;

    /// <summary>Most items in a longer list (tolerations, registries, keys).</summary>
    public const int LongList = 64;
}
