namespace BuildPool.Gateway.Admission;

/// <summary>A pool's admission settings.</summary>
public sealed record AdmissionOptions
{
    /// <summary>How long a build waits for a slot (<c>spec.routing.queueTimeout</c>) before it fails.</summary>
    public TimeSpan QueueTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Slots of a builder that was never given its own (<c>spec.builder.maxConcurrentBuilds</c>).</summary>
    public int DefaultMaxConcurrentBuilds { get; init; } = 4;
}
