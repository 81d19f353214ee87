using BuildPool.BuildKit.Wire;

namespace BuildPool.Gateway.Insight;

/// <summary>What <see cref="MissClassifier"/> decides from: one build and what the gateway remembers before it.</summary>
/// <param name="Steps">The build's vertexes as its Status stream reported them, in first-reported order.</param>
/// <param name="Builder">The builder it ran on.</param>
/// <param name="Key">Its routing key; null for a keyless build (it has no history).</param>
/// <param name="NoCache">The Solve's <c>no-cache</c> attribute: empty for every stage, a stage list, null when not asked.</param>
/// <param name="History">The key's earlier builds, newest first (bounded).</param>
/// <param name="WhyNotPrevious">Why the builder of the key's last build did not take this one (draining, full, down, isolated), when placement knows.</param>
/// <param name="Prunes">Prunes of <paramref name="Builder"/>'s cache the gateway knows of, oldest first.</param>
public readonly record struct MissFacts(
    IReadOnlyList<StatusVertex> Steps,
    string Builder,
    string? Key,
    string? NoCache,
    IReadOnlyList<PastBuild> History,
    string? WhyNotPrevious,
    IReadOnlyList<PruneRecord> Prunes);
