using System.Text.Json.Nodes;

namespace BuildPool.LocalApi.Storage;

/// <summary>A page of a list with the revision it reflects.</summary>
internal sealed record ListResult(IReadOnlyList<JsonObject> Items, long ResourceVersion, string? Continue, long? RemainingItemCount);
