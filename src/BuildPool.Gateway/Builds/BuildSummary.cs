using BuildPool.BuildKit.Wire;
using BuildPool.Gateway.Insight;

namespace BuildPool.Gateway.Builds;

/// <summary>One finished build as the gateway saw it: the per-build log line, also kept for tests and status.</summary>
/// <param name="Ref">The Solve ref.</param>
/// <param name="Key">The routing key; null for a keyless build.</param>
/// <param name="KeySource">Where the key came from ("None" when keyless).</param>
/// <param name="Backend">The builder; null when none could take it.</param>
/// <param name="Wait">From the Solve's arrival to its forwarding: routing plus admission queue.</param>
/// <param name="QueueWait">The admission queue part of <paramref name="Wait"/>.</param>
/// <param name="Duration">From the Solve's arrival to its end.</param>
/// <param name="CachedSteps">Vertexes the builder reported cached on the build's Status stream.</param>
/// <param name="TotalSteps">Distinct vertexes reported on the Status stream.</param>
/// <param name="GrpcStatus">The Solve's gRPC status code.</param>
/// <param name="Tenant">The client certificate's tenant identity; null for an anonymous client.</param>
public sealed record BuildSummary(
    string Ref,
    string? Key,
    string KeySource,
    string? Backend,
    TimeSpan Wait,
    TimeSpan QueueWait,
    TimeSpan Duration,
    int CachedSteps,
    int TotalSteps,
    int GrpcStatus,
    string? Tenant = null)
{
    /// <summary><see cref="Isolation"/> of a build on its key's own builder.</summary>
    public const string Trusted = "trusted";

    /// <summary>
    /// Where the build ran: <c>trusted</c> (its key's builder), <c>fork</c> (an overflow fork of its
    /// Private volume) or <c>isolated</c> (an untrusted build on its own isolated fork).
    /// </summary>
    public string Isolation { get; init; } = Trusted;

    /// <summary>When the build was reported (its calls ended), by the gateway's clock.</summary>
    public DateTimeOffset EndedAt { get; init; }

    /// <summary>The first step the builder executed instead of taking from cache, and why; null when it executed none.</summary>
    public FirstMiss? FirstMiss { get; init; }

    /// <summary>Time spent in executed (not cached) steps, summed over steps.</summary>
    public TimeSpan ExecutedTime { get; init; }

    /// <summary>The build's vertexes as its Status stream reported them (at most <see cref="BuildHistory.MaxSteps"/>).</summary>
    public IReadOnlyList<StatusVertex> Steps { get; init; } = [];
}
