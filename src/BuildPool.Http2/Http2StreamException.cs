namespace BuildPool.Http2;

/// <summary>One stream failed (reset by the peer or locally, or refused by GOAWAY); the connection lives on.</summary>
public sealed class Http2StreamException : IOException
{
    public Http2StreamException()
        : this(Http2ErrorCode.InternalError, "HTTP/2 stream failed.")
    {
    }

    public Http2StreamException(string message)
        : this(Http2ErrorCode.InternalError, message)
    {
    }

    public Http2StreamException(string message, Exception innerException)
        : base(message, innerException)
    {
        ErrorCode = Http2ErrorCode.InternalError;
    }

    public Http2StreamException(Http2ErrorCode errorCode, string message)
        : base(message)
    {
        ErrorCode = errorCode;
    }

    /// <summary>The RST_STREAM code.</summary>
    public Http2ErrorCode ErrorCode { get; }

    /// <summary>
    /// True when the peer did not process the stream (REFUSED_STREAM, or the stream id was above
    /// the last-stream-id of a GOAWAY), so the request can be sent again on another connection.
    /// </summary>
    public bool IsRetryable { get; init; }
}
