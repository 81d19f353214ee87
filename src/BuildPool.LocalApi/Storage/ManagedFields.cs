using System.Text.Json.Nodes;
using BuildPool.LocalApi.Json;

namespace BuildPool.LocalApi.Storage;

/// <summary>
/// <c>metadata.managedFields</c> by manager, operation and subresource, so tests and
/// <c>kubectl get -o yaml --show-managed-fields</c> can tell who wrote an object. The field sets
/// themselves are not tracked: <c>fieldsV1</c> stays empty.
/// </summary>
internal static class ManagedFields
{
    public static JsonArray Record(JsonNode? existing, string? manager, string operation, string apiVersion, string? subresource, string now)
    {
        var entries = existing is JsonArray array ? (JsonArray)array.DeepClone() : [];
        var name = string.IsNullOrEmpty(manager) ? "unknown" : manager;
        var entry = entries.OfType<JsonObject>().FirstOrDefault(e =>
            JsonUtil.Str(e["manager"]) == name && JsonUtil.Str(e["operation"]) == operation && JsonUtil.Str(e["subresource"]) == subresource);
        if (entry is null)
        {
            entry = new JsonObject { ["manager"] = name, ["operation"] = operation };
            entries.Add(entry);
        }

        entry["apiVersion"] = apiVersion;
        entry["time"] = now;
        entry["fieldsType"] = "FieldsV1";
        entry["fieldsV1"] ??= new JsonObject();
        if (subresource is not null)
        {
            entry["subresource"] = subresource;
        }

        return entries;
    }
}
