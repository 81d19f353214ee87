using System.Net;
using Microsoft.Extensions.Logging;

namespace BuildPool.Gateway.Forwarding;

internal static partial class ForwarderLog
{
    [LoggerMessage(EventId = 200, Level = LogLevel.Warning, Message = "Backend {Backend} unavailable for {Path}")]
    public static partial void BackendUnavailable(ILogger logger, DnsEndPoint backend, string path, Exception exception);

    [LoggerMessage(EventId = 201, Level = LogLevel.Information, Message = "Upstream call {Path} to {Backend} failed after the response started")]
    public static partial void UpstreamFailed(ILogger logger, DnsEndPoint backend, string path, Exception exception);

    [LoggerMessage(EventId = 202, Level = LogLevel.Debug, Message = "Client went away during {Path}; upstream stream reset")]
    public static partial void ClientAborted(ILogger logger, string path);
}
