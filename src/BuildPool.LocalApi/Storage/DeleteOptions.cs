namespace BuildPool.LocalApi.Storage;

/// <summary>The parts of <c>v1.DeleteOptions</c> that change behaviour here.</summary>
internal sealed record DeleteOptions(string? PropagationPolicy = null, string? PreconditionUid = null, string? PreconditionResourceVersion = null, bool DryRun = false)
{
    public static readonly DeleteOptions Default = new();
}
