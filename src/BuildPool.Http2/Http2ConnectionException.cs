namespace BuildPool.Http2;

/// <summary>
/// The HTTP/2 connection failed: a protocol violation (by either side), a transport failure, or
/// the connection closing. Every stream on it fails with this exception.
/// </summary>
public sealed class Http2ConnectionException : IOException
{
    public Http2ConnectionException()
        : this(Http2ErrorCode.InternalError, "HTTP/2 connection failed.")
    {
    }

    public Http2ConnectionException(string message)
        : this(Http2ErrorCode.InternalError, message)
    {
    }

    public Http2ConnectionException(string message, Exception innerException)
        : this(Http2ErrorCode.InternalError, message, innerException)
    {
    }

    public Http2ConnectionException(Http2ErrorCode errorCode, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        ErrorCode = errorCode;
    }

    /// <summary>The code sent (or received) in GOAWAY.</summary>
    public Http2ErrorCode ErrorCode { get; }

    /// <summary>
    /// True when the peer cannot have processed the request (e.g. the connection was closed
    /// before our HEADERS were sent), so sending it again elsewhere is safe.
    /// </summary>
    public bool IsRetryable { get; init; }
}
