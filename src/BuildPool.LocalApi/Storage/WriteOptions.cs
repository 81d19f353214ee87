namespace BuildPool.LocalApi.Storage;

/// <summary>Per-request write settings from the query string.</summary>
/// <param name="FieldManager">
/// Who writes, as <c>metadata.managedFields[].manager</c> records it: the <c>fieldManager</c>
/// query parameter, else the User-Agent up to its first '/', as the real server derives it.
/// </param>
internal sealed record WriteOptions(bool DryRun = false, bool StrictFields = false, string? FieldManager = null)
{
    public static readonly WriteOptions Default = new();
}
