using Microsoft.Extensions.Logging;

namespace BuildPool.Gateway.Passthrough;

internal static partial class PassthroughLog
{
    [LoggerMessage(EventId = 450, Level = LogLevel.Information, Message = "Passthrough gateway listening on {EndPoint} with {Backends} builders (routing by SNI under {Domain})")]
    public static partial void Listening(ILogger logger, string endPoint, int backends, string domain);

    [LoggerMessage(EventId = 451, Level = LogLevel.Information, Message = "Connection from {Client}: server name {ServerName}, key {Key}, builder {Backend} ({Outcome})")]
    public static partial void Routed(ILogger logger, string client, string serverName, string key, string backend, string outcome);

    [LoggerMessage(EventId = 452, Level = LogLevel.Information, Message = "Connection from {Client} closed before reaching a builder: {Reason}")]
    public static partial void Rejected(ILogger logger, string client, string reason);

    [LoggerMessage(EventId = 453, Level = LogLevel.Warning, Message = "Builder {Backend} at {EndPoint} refused a passthrough connection")]
    public static partial void ConnectFailed(ILogger logger, string backend, string endPoint, Exception error);

    [LoggerMessage(EventId = 454, Level = LogLevel.Debug, Message = "Connection from {Client} to {Backend} ended: {UpstreamBytes} bytes up, {DownstreamBytes} bytes down")]
    public static partial void Ended(ILogger logger, string client, string backend, long upstreamBytes, long downstreamBytes);

    [LoggerMessage(EventId = 455, Level = LogLevel.Information, Message = "Builder {Backend} accepts connections again; back in placement")]
    public static partial void BackendRecovered(ILogger logger, string backend);

    [LoggerMessage(EventId = 456, Level = LogLevel.Warning, Message = "Stopping: {Connections} connections still open after the shutdown timeout are cut")]
    public static partial void ShutdownCut(ILogger logger, int connections);

    [LoggerMessage(EventId = 457, Level = LogLevel.Warning, Message = "Accepting a connection failed")]
    public static partial void AcceptFailed(ILogger logger, Exception error);
}
