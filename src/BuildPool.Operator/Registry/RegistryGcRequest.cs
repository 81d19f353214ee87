namespace BuildPool.Operator.Registry;

/// <summary>The arguments of <c>buildpool registry-gc</c>.</summary>
public sealed record RegistryGcRequest(
    string Ref,
    string? MaxAge = null,
    int? MaxTags = null,
    string? MaxBytes = null,
    bool DryRun = false,
    string? Username = null,
    string? Password = null,
    bool PlainHttp = false);
