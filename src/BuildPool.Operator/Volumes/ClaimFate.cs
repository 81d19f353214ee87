namespace BuildPool.Operator.Volumes;

/// <summary>What becomes of a deleted volume's state claim (<see cref="CacheVolumePlanner.FateOf"/>).</summary>
public enum ClaimFate
{
    /// <summary>reclaimPolicy Delete: the claim, and the cache, go.</summary>
    Delete,

    /// <summary>Retain: the claim stays, annotated so a pool of the same name finds it again.</summary>
    MarkRetained,

    /// <summary>Retained already: nothing to write.</summary>
    Kept,
}
