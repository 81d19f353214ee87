using Microsoft.Extensions.Logging;

namespace BuildPool.Http2;

internal static partial class Http2Log
{
    [LoggerMessage(EventId = 100, Level = LogLevel.Debug, Message = "HTTP/2 connection to {Peer} established (max concurrent streams {MaxConcurrentStreams}, initial window {InitialWindow})")]
    public static partial void Connected(ILogger logger, string peer, int maxConcurrentStreams, int initialWindow);

    [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "HTTP/2 connection to {Peer} received GOAWAY (last stream {LastStreamId}, {ErrorCode})")]
    public static partial void GoAwayReceived(ILogger logger, string peer, int lastStreamId, Http2ErrorCode errorCode);

    [LoggerMessage(EventId = 102, Level = LogLevel.Warning, Message = "HTTP/2 connection to {Peer} failed: {ErrorCode}")]
    public static partial void ConnectionFailed(ILogger logger, string peer, Http2ErrorCode errorCode, Exception exception);

    [LoggerMessage(EventId = 103, Level = LogLevel.Debug, Message = "HTTP/2 connection to {Peer} closed")]
    public static partial void ConnectionClosed(ILogger logger, string peer);

    [LoggerMessage(EventId = 104, Level = LogLevel.Debug, Message = "HTTP/2 stream {StreamId} to {Peer} reset by peer with {ErrorCode}")]
    public static partial void StreamResetByPeer(ILogger logger, string peer, int streamId, Http2ErrorCode errorCode);

    [LoggerMessage(EventId = 105, Level = LogLevel.Debug, Message = "HTTP/2 stream {StreamId} to {Peer} failed with a stream error: {ErrorCode}")]
    public static partial void StreamError(ILogger logger, string peer, int streamId, Http2ErrorCode errorCode, Exception exception);

    [LoggerMessage(EventId = 106, Level = LogLevel.Warning, Message = "HTTP/2 keepalive PING to {Peer} unanswered after {Timeout}")]
    public static partial void KeepAliveTimeout(ILogger logger, string peer, TimeSpan timeout);

    [LoggerMessage(EventId = 110, Level = LogLevel.Debug, Message = "Opening HTTP/2 connection {Count} to {Backend}")]
    public static partial void OpeningConnection(ILogger logger, string backend, int count);

    [LoggerMessage(EventId = 111, Level = LogLevel.Debug, Message = "Retiring HTTP/2 connection to {Backend}")]
    public static partial void RetiringConnection(ILogger logger, string backend);
}
