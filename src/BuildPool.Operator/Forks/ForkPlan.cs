using BuildPool.Api.V1Alpha1;

namespace BuildPool.Operator.Forks;

/// <summary>The forks one base volume should get now, computed without I/O.</summary>
/// <param name="Create">New fork CacheVolumes, isolated ones first (their builds have nowhere else to go).</param>
/// <param name="Existing">Forks of the base that exist now (for its status).</param>
/// <param name="Refused">Why wanted forks were not created (a limit), or null.</param>
public sealed record ForkPlan(IReadOnlyList<CacheVolume> Create, int Existing, string? Refused);
