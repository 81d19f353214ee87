namespace BuildPool.Gateway.Discovery;

/// <summary>The pool cannot be discovered (missing, or a setting the gateway cannot use); the message is one line for a crash log.</summary>
public sealed class DiscoveryException : Exception
{
    public DiscoveryException()
    {
    }

    public DiscoveryException(string message)
        : base(message)
    {
    }

    public DiscoveryException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
