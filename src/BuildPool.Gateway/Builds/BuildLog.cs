using Microsoft.Extensions.Logging;

namespace BuildPool.Gateway.Builds;

internal static partial class BuildLog
{
    [LoggerMessage(EventId = 300, Level = LogLevel.Information,
        Message = "Build {Ref} of tenant {Tenant} key {Key} ({KeySource}) on {Backend} ({Isolation}): waited {WaitMs:F0} ms (queue {QueueMs:F0} ms), took {DurationMs:F0} ms, steps cached {CachedSteps}/{TotalSteps}, executed steps {ExecutedMs:F0} ms, first miss: {FirstMiss}, grpc-status {GrpcStatus}")]
    public static partial void BuildEnded(ILogger logger, string @ref, string tenant, string key, string keySource, string backend, string isolation, double waitMs, double queueMs, double durationMs, int cachedSteps, int totalSteps, double executedMs, string firstMiss, int grpcStatus);

    [LoggerMessage(EventId = 301, Level = LogLevel.Warning, Message = "Build calls waited {WaitSeconds:F1} s for their deciding call; routed with what was known (refs {Refs}, sessions {Sessions})")]
    public static partial void DecisionTimedOut(ILogger logger, double waitSeconds, string refs, string sessions);

    [LoggerMessage(EventId = 302, Level = LogLevel.Warning, Message = "No builder for build (key {Key}): {Reason}")]
    public static partial void NoBuilder(ILogger logger, string key, string reason);

    [LoggerMessage(EventId = 303, Level = LogLevel.Information, Message = "Untrusted build (key {Key}: {Why}) waits for its isolated fork of {Volume} (build {BuildId})")]
    public static partial void Isolating(ILogger logger, string key, string why, string volume, string buildId);
}
