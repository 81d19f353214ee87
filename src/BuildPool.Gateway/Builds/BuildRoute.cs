using BuildPool.Gateway.Routing;

namespace BuildPool.Gateway.Builds;

/// <summary>Where every call of one build goes, decided once per build.</summary>
/// <param name="Backend">The builder; null when none could take the build (then <paramref name="Failure"/> says why).</param>
/// <param name="Key">The build's routing key; null for a build that offered none.</param>
/// <param name="Outcome">Why placement chose this builder.</param>
/// <param name="FollowedConnection">A keyless build sent to its connection's last keyed builder.</param>
/// <param name="Failure">Why no builder was chosen (the grpc-message of its calls).</param>
/// <param name="FailureStatus">The gRPC status of a refused build: UNAVAILABLE (14) when no builder could take it, INVALID_ARGUMENT (3) or PERMISSION_DENIED (7) when the build itself is refused.</param>
public sealed record BuildRoute(Backend? Backend, RoutingKey? Key, PlacementOutcome Outcome, bool FollowedConnection = false, string? Failure = null, int FailureStatus = 14)
{
    /// <summary>The key source as a metric and log label ("None" for a keyless build).</summary>
    public string KeySourceLabel => Key is { } key ? key.Source.ToString() : "None";
}
