namespace BuildPool.Operator.Registry;

/// <summary>One retention run: what was there, what was decided, what was (or would be) deleted.</summary>
public sealed record RegistryGcResult(CacheInventory Inventory, RetentionPlan Plan, IReadOnlyList<RetentionDecision> Deleted, bool DryRun)
{
    /// <summary>Tags left after the run (all of them on a dry run).</summary>
    public int TagsAfter => DryRun ? Inventory.Tags.Count : Plan.Keep.Count + Plan.Delete.Count - Deleted.Count;

    /// <summary>Bytes the deleted tags alone referenced (what the deletions would free on a dry run).</summary>
    public long FreedBytes => Plan.FreedBytes;
}
