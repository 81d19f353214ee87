using BuildPool.Gateway.Routing;

namespace BuildPool.Gateway.Builds;

/// <summary>Where every call of one build goes, decided once per build.</summary>
/// <param name="Backend">The builder; null when none could take the build (then <paramref name="Failure"/> says why).</param>
/// <param name="Key">The build's routing key; null for a build that offered none.</param>
/// <param name="Outcome">Why placement chose this builder.</param>
/// <param name="FollowedConnection">A keyless build sent to its connection's last keyed builder.</param>
/// <param name="Failure">Why no builder was chosen (becomes the gRPC UNAVAILABLE message).</param>
public sealed record BuildRoute(Backend? Backend, RoutingKey? Key, PlacementOutcome Outcome, bool FollowedConnection = false, string? Failure = null)
{
    /// <summary>The key source as a metric and log label ("None" for a keyless build).</summary>
    public string KeySourceLabel => Key is { } key ? key.Source.ToString() : "None";
}
