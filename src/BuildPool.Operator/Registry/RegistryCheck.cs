using BuildPool.Operator.Status;

namespace BuildPool.Operator.Registry;

/// <summary>
/// What one pass over a target found, for <see cref="RegistryCacheTargetStatusCalculator"/>.
/// Null numbers mean "not measured this time": the previous status keeps its values.
/// </summary>
public sealed record RegistryCheck(
    Outcome Outcome,
    bool? Reachable,
    int? TagCount = null,
    long? Bytes = null,
    DateTime? LastGC = null,
    long? FreedBytes = null,
    bool SpecValid = true,
    int DeletedTags = 0);
