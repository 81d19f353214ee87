namespace BuildPool.TestDoubles;

/// <summary>
/// One call as a fake builder received it, recorded before the builder acted on it, so a call that
/// waited or failed (a Status for a build that went elsewhere, a Solve without its session) is
/// still evidence of where it was routed.
/// </summary>
/// <param name="Builder">Name of the builder that received the call.</param>
/// <param name="Path">gRPC path, e.g. <c>/moby.buildkit.v1.Control/Solve</c>.</param>
/// <param name="Ref">The build ref the call belongs to: Solve/Status field 1, or the LLBBridge build-id metadata.</param>
/// <param name="SessionId">The session the call belongs to: Session's uuid header or Solve field 5.</param>
/// <param name="Authority">The <c>:authority</c> the client (or the gateway) sent.</param>
/// <param name="ConnectionId">Kestrel's id of the HTTP/2 connection that carried the call.</param>
/// <param name="Headers">Request header fields, one entry per value, so repeated fields stay visible.</param>
public sealed record FakeBuilderCall(
    string Builder,
    string Path,
    string? Ref,
    string? SessionId,
    string Authority,
    string ConnectionId,
    IReadOnlyList<KeyValuePair<string, string>> Headers,
    DateTimeOffset ReceivedAt)
{
    /// <summary>The method name, e.g. <c>Solve</c> or <c>Ping</c>.</summary>
    public string Method => Path[(Path.LastIndexOf('/') + 1)..];

    /// <summary>Every value of a header, one per field as received (case-insensitive name).</summary>
    public IReadOnlyList<string> HeaderValues(string name) =>
        Headers.Where(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value).ToList();
}
