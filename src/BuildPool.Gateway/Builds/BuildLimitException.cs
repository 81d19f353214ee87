namespace BuildPool.Gateway.Builds;

/// <summary>
/// A call would make the gateway track one build more than a client connection, a tenant or the
/// whole gateway may have. The server maps it to gRPC <c>RESOURCE_EXHAUSTED</c>; the message names
/// the limit and its flag.
/// </summary>
public sealed class BuildLimitException : Exception
{
    public BuildLimitException()
        : base("the gateway tracks as many builds as it may")
    {
    }

    public BuildLimitException(string message)
        : base(message)
    {
    }

    public BuildLimitException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
