using BuildPool.BuildKit.Wire;

namespace BuildPool.Gateway.Insight;

/// <summary>One earlier build of a key as the gateway remembers it.</summary>
/// <param name="Ref">Its Solve ref.</param>
/// <param name="Builder">The builder it ran on.</param>
/// <param name="EndedAt">When it ended.</param>
/// <param name="Steps">Its vertexes (bounded).</param>
public sealed record PastBuild(string Ref, string Builder, DateTimeOffset EndedAt, IReadOnlyList<StatusVertex> Steps);
