namespace BuildPool.Host.Cluster;

/// <summary>No usable cluster: the message is one line a person can act on.</summary>
public sealed class ClusterUnavailableException : Exception
{
    public ClusterUnavailableException()
    {
    }

    public ClusterUnavailableException(string message)
        : base(message)
    {
    }

    public ClusterUnavailableException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
