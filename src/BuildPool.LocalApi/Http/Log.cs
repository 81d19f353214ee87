using Microsoft.Extensions.Logging;

namespace BuildPool.LocalApi.Http;

internal static partial class Log
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Debug, Message = "{Method} {Path} -> {Code}")]
    public static partial void Served(ILogger logger, string method, string path, int code);

    [LoggerMessage(EventId = 2, Level = LogLevel.Debug, Message = "Injected {Code} into {Method} {Path}")]
    public static partial void Injected(ILogger logger, int code, string method, string path);

    [LoggerMessage(EventId = 3, Level = LogLevel.Error, Message = "Unhandled failure serving {Method} {Path}")]
    public static partial void Unhandled(ILogger logger, Exception exception, string method, string path);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "Local API server listening on {Address}")]
    public static partial void Listening(ILogger logger, string address);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "Loaded {Count} CRDs from {Directory}")]
    public static partial void LoadedCrds(ILogger logger, int count, string directory);

    [LoggerMessage(EventId = 6, Level = LogLevel.Warning, Message = "Could not save state to {Path}")]
    public static partial void SaveFailed(ILogger logger, Exception exception, string path);
}
