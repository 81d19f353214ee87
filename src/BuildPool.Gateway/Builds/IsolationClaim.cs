namespace BuildPool.Gateway.Builds;

// The one isolated fork an untrusted build runs on: asked for once (at RequestedAt, an instant on
// the correlator's clock) and given back when the build ends.
internal sealed class IsolationClaim(string baseId, string buildId, TimeSpan requestedAt)
{
    public string Base { get; } = baseId;

    public string BuildId { get; } = buildId;

    public TimeSpan RequestedAt { get; } = requestedAt;

    public bool Released { get; set; }
}
