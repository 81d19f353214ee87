namespace BuildPool.Gateway.Passthrough;

/// <summary>
/// The bytes a passthrough connection opened with are not a well-formed TLS ClientHello (or
/// exceed the hello limit): that connection is closed, no other is affected.
/// </summary>
public sealed class TlsClientHelloException : FormatException
{
    public TlsClientHelloException()
    {
    }

    public TlsClientHelloException(string message)
        : base(message)
    {
    }

    public TlsClientHelloException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
