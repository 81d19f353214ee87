namespace BuildPool.LocalApi.Storage;

/// <summary>Per-request write settings from the query string.</summary>
internal sealed record WriteOptions(bool DryRun = false, bool StrictFields = false)
{
    public static readonly WriteOptions Default = new();
}
