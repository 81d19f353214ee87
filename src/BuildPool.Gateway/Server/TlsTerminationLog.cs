using Microsoft.Extensions.Logging;

namespace BuildPool.Gateway.Server;

// Debug: a scanner or a hostile client can fail handshakes as often as it likes, and the
// refusal of a certificate from another CA is logged (as a warning) by the gateway itself.
internal static partial class TlsTerminationLog
{
    [LoggerMessage(EventId = 420, Level = LogLevel.Debug, Message = "TLS handshake with {Client} failed: {Message}")]
    public static partial void HandshakeFailed(ILogger logger, string? client, string message);

    [LoggerMessage(EventId = 421, Level = LogLevel.Debug, Message = "TLS handshake with {Client} did not complete within {Timeout}; connection closed")]
    public static partial void HandshakeTimedOut(ILogger logger, string? client, TimeSpan timeout);

    [LoggerMessage(EventId = 422, Level = LogLevel.Information, Message = "TLS connection from {Client} refused: it negotiated ALPN {Protocol}, and this endpoint speaks only h2")]
    public static partial void ProtocolRefused(ILogger logger, string? client, string protocol);
}
