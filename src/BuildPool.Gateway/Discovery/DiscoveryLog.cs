using Microsoft.Extensions.Logging;

namespace BuildPool.Gateway.Discovery;

internal static partial class DiscoveryLog
{
    [LoggerMessage(1, LogLevel.Information, "Pool {Namespace}/{Pool}: {Ready} of {Count} builders ready ({Summary})")]
    public static partial void BackendsChanged(ILogger logger, string @namespace, string pool, int ready, int count, string summary);

    [LoggerMessage(2, LogLevel.Warning, "CacheVolume {Volume}: status.endpoint cannot be read as [tcp://]host:port; left out of routing")]
    public static partial void BadEndpoint(ILogger logger, string volume);

    [LoggerMessage(3, LogLevel.Information, "Key {Key} waits for builder {Backend} ({State}) up to {StartTimeout}")]
    public static partial void Holding(ILogger logger, string key, string backend, string state, TimeSpan startTimeout);

    [LoggerMessage(4, LogLevel.Information, "Key {Key} waits for pool {Pool} to create its cache volume, up to {StartTimeout}")]
    public static partial void AwaitingVolume(ILogger logger, string key, string pool, TimeSpan startTimeout);

    [LoggerMessage(5, LogLevel.Information, "Key {Key}: builder {Backend} ready after {WaitedMs} ms")]
    public static partial void Started(ILogger logger, string key, string backend, double waitedMs);

    [LoggerMessage(6, LogLevel.Warning, "Key {Key}: {Reason}")]
    public static partial void StartTimedOut(ILogger logger, string key, string reason);

    [LoggerMessage(7, LogLevel.Information, "Key {Key}: the build ended while it waited for its builder")]
    public static partial void WaitEnded(ILogger logger, string key);

    [LoggerMessage(9, LogLevel.Warning, "BuilderPool {Namespace}/{Pool} changed routing settings (key sources, domain, bounded load, queue timeout or assignment mode); restart the gateway to apply them")]
    public static partial void RestartNeeded(ILogger logger, string @namespace, string pool);

    [LoggerMessage(10, LogLevel.Warning, "BuilderPool {Namespace}/{Pool}: {Problem}; keeping the previous settings")]
    public static partial void BadPool(ILogger logger, string @namespace, string pool, string problem);

    [LoggerMessage(11, LogLevel.Warning, "BuilderPool {Namespace}/{Pool} is gone; routing to its remaining volumes")]
    public static partial void PoolGone(ILogger logger, string @namespace, string pool);
}
