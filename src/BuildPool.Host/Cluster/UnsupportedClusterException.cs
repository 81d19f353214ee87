namespace BuildPool.Host.Cluster;

/// <summary>The cluster answers but the operator must not run there (too old, or an API it needs is not served): one line naming what was found and what is needed.</summary>
public sealed class UnsupportedClusterException : Exception
{
    public UnsupportedClusterException()
    {
    }

    public UnsupportedClusterException(string message)
        : base(message)
    {
    }

    public UnsupportedClusterException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
