using BuildPool.Api.Units;

namespace BuildPool.Gateway.Admission;

/// <summary>
/// A build waited <c>queueTimeout</c> for a slot on its builder and got none. The server maps
/// it to gRPC <c>RESOURCE_EXHAUSTED</c>; the message names the builder and the wait so a CI log
/// says what to tune.
/// </summary>
public sealed class BuilderAtCapacityException : Exception
{
    public BuilderAtCapacityException()
        : base("builder is at capacity")
    {
        BackendId = string.Empty;
    }

    public BuilderAtCapacityException(string message)
        : base(message)
    {
        BackendId = string.Empty;
    }

    public BuilderAtCapacityException(string message, Exception innerException)
        : base(message, innerException)
    {
        BackendId = string.Empty;
    }

    public BuilderAtCapacityException(string backendId, int runningBuilds, TimeSpan waited)
        : base($"builder {backendId} is at capacity ({runningBuilds} running {(runningBuilds == 1 ? "build" : "builds")}); waited {GoDuration.Format(waited)} in queue")
    {
        BackendId = backendId;
        RunningBuilds = runningBuilds;
        Waited = waited;
    }

    public string BackendId { get; }

    public int RunningBuilds { get; }

    public TimeSpan Waited { get; }
}
