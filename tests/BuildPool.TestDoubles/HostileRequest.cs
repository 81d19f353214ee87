namespace BuildPool.TestDoubles;

/// <summary>A request the gateway forwarded to a <see cref="HostileBuilder"/>.</summary>
/// <param name="StreamId">The HTTP/2 stream the gateway opened.</param>
/// <param name="Path">The gRPC method, such as <c>/moby.buildkit.v1.Control/Solve</c>.</param>
/// <param name="Index">How many requests the builder received before this one, over all connections.</param>
public sealed record HostileRequest(int StreamId, string Path, int Index);
