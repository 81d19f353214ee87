using Microsoft.Extensions.Logging;

namespace BuildPool.Gateway.Server;

internal static partial class GatewayLog
{
    [LoggerMessage(EventId = 400, Level = LogLevel.Information, Message = "Gateway listening on {EndPoint} ({Mode}) with {Backends} builders")]
    public static partial void Listening(ILogger logger, string endPoint, string mode, int backends);

    [LoggerMessage(EventId = 401, Level = LogLevel.Warning, Message = "Build {Ref} on {Backend}: {Message}")]
    public static partial void QueueTimedOut(ILogger logger, string @ref, string backend, string message);

    [LoggerMessage(EventId = 402, Level = LogLevel.Information, Message = "Builder {Backend} answers again; back in placement")]
    public static partial void BackendRecovered(ILogger logger, string backend);

    [LoggerMessage(EventId = 403, Level = LogLevel.Warning, Message = "Call {Path} for unknown builder {Backend}")]
    public static partial void UnknownBackend(ILogger logger, string path, string backend);

    // Logged at most every 10 s per limit (a flood of connections must not become a flood of lines); the metric counts them all.
    [LoggerMessage(EventId = 404, Level = LogLevel.Warning, Message = "Connection from {Client} closed: the gateway's {Limit} of {Value} is reached")]
    public static partial void ConnectionRefused(ILogger logger, string client, string limit, long value);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Build of {Key} brought no cache: added registry cache {CacheRef}")]
    public static partial void CacheInjected(ILogger logger, string key, string cacheRef);
}
