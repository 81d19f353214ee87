using System.Text.Json.Nodes;

namespace BuildPool.LocalApi.Storage;

/// <summary>
/// One entry of the watch history. <see cref="Previous"/> lets a filtered watch turn a
/// MODIFIED into ADDED or DELETED when an object starts or stops matching its selector.
/// Objects here are never mutated after they are recorded.
/// </summary>
internal sealed record StoredEvent(long ResourceVersion, string Type, string StorageKey, JsonObject Object, JsonObject? Previous);
