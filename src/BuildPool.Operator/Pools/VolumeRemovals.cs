using BuildPool.Api.V1Alpha1;

namespace BuildPool.Operator.Pools;

/// <summary>The pool's own volumes to delete now, computed without I/O.</summary>
/// <param name="ScaleIn">Hashed volumes the plan no longer has.</param>
/// <param name="Evict">A Dedicated pool's idle volume to make room for a waiting key, or null.</param>
public sealed record VolumeRemovals(IReadOnlyList<CacheVolume> ScaleIn, CacheVolume? Evict);
