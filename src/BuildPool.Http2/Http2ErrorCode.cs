namespace BuildPool.Http2;

/// <summary>HTTP/2 error codes (RFC 9113 section 7), carried by RST_STREAM and GOAWAY.</summary>
public enum Http2ErrorCode : uint
{
    /// <summary>Graceful shutdown or a stream closed without error.</summary>
    NoError = 0x0,
    /// <summary>Unspecific protocol violation.</summary>
    ProtocolError = 0x1,
    /// <summary>Unexpected internal error.</summary>
    InternalError = 0x2,
    /// <summary>Flow-control protocol violation.</summary>
    FlowControlError = 0x3,
    /// <summary>SETTINGS not acknowledged in time.</summary>
    SettingsTimeout = 0x4,
    /// <summary>Frame received for a half-closed or closed stream.</summary>
    StreamClosed = 0x5,
    /// <summary>Frame with an invalid size.</summary>
    FrameSizeError = 0x6,
    /// <summary>Stream refused before any processing; safe to retry.</summary>
    RefusedStream = 0x7,
    /// <summary>Stream no longer needed.</summary>
    Cancel = 0x8,
    /// <summary>Header compression context could not be maintained.</summary>
    CompressionError = 0x9,
    /// <summary>CONNECT request failed.</summary>
    ConnectError = 0xa,
    /// <summary>Peer is generating excessive load.</summary>
    EnhanceYourCalm = 0xb,
    /// <summary>Transport security is inadequate.</summary>
    InadequateSecurity = 0xc,
    /// <summary>HTTP/1.1 is required instead.</summary>
    Http11Required = 0xd,
}
