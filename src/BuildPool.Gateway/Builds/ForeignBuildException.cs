namespace BuildPool.Gateway.Builds;

/// <summary>
/// A call named a session id or build ref that belongs to another tenant's build. A build belongs
/// to the tenant whose call started it; knowing its ids does not make a stranger part of it. The
/// gateway answers PERMISSION_DENIED and forwards nothing.
/// </summary>
public sealed class ForeignBuildException : Exception
{
    public ForeignBuildException()
    {
    }

    public ForeignBuildException(string message)
        : base(message)
    {
    }

    public ForeignBuildException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
