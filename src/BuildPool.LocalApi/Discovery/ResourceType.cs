using System.Text.Json.Nodes;

namespace BuildPool.LocalApi.Discovery;

/// <summary>One served group/version/resource with everything discovery, tables and validation need.</summary>
internal sealed class ResourceType
{
    public required string Group { get; init; }

    public required string Version { get; init; }

    public required string Plural { get; init; }

    public required string Singular { get; init; }

    public required string Kind { get; init; }

    public required bool Namespaced { get; init; }

    public IReadOnlyList<string> ShortNames { get; init; } = [];

    public IReadOnlyList<string> Categories { get; init; } = [];

    public bool HasStatus { get; init; }

    public bool IsCustom { get; init; }

    /// <summary>Whether this version is the preferred one in discovery (first served CRD version, else the storage one).</summary>
    public bool Preferred { get; init; } = true;

    public IReadOnlyList<PrinterColumn> PrinterColumns { get; init; } = [];

    /// <summary>The CRD's <c>openAPIV3Schema</c>; null for built-ins, which are not validated.</summary>
    public JsonObject? Schema { get; init; }

    public string ListKind => Kind + "List";

    public string GroupVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";

    /// <summary>Objects are shared by all versions of a resource, as with a CRD's <c>None</c> conversion strategy.</summary>
    public string StorageKey => Group.Length == 0 ? Plural : $"{Plural}.{Group}";

    /// <summary>How the API server names the resource in messages: <c>configmaps</c>, <c>builderpools.buildpool.dev</c>.</summary>
    public string QualifiedResource => StorageKey;

    /// <summary>How the API server names the kind in validation messages: <c>BuilderPool.buildpool.dev</c>.</summary>
    public string QualifiedKind => Group.Length == 0 ? Kind : $"{Kind}.{Group}";
}
