using Microsoft.Extensions.Logging;

namespace BuildPool.Host.Dev;

internal static partial class LocalKubeletLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Started {Pod} in {Namespace} ({What}, listening on 127.0.0.1:{Port})")]
    public static partial void Started(ILogger logger, string @namespace, string pod, string what, int port);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Pod} in {Namespace} exited with code {ExitCode}; restarting in {Backoff}. Last lines:\n{Tail}")]
    public static partial void Crashed(ILogger logger, string @namespace, string pod, int exitCode, TimeSpan backoff, string tail);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopped {Pod} in {Namespace}")]
    public static partial void Stopped(ILogger logger, string @namespace, string pod);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Pod} in {Namespace} cannot start: {Reason}")]
    public static partial void CannotStart(ILogger logger, string @namespace, string pod, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Claim {Namespace}/{Claim} is gone and its reclaim policy is Delete: removed {Directory}")]
    public static partial void Reclaimed(ILogger logger, string @namespace, string claim, string directory);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Local kubelet round failed; trying again")]
    public static partial void RoundFailed(ILogger logger, Exception exception);
}
