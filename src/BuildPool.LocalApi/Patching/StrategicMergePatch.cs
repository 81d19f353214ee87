using System.Text.Json.Nodes;
using BuildPool.LocalApi.Json;

namespace BuildPool.LocalApi.Patching;

/// <summary>
/// Strategic merge patch for built-in kinds. The real server reads merge keys from Go struct
/// tags; this keeps a table of the lists that matter (containers, env, ports, volumes,
/// conditions, owner references, finalizers) and treats every other list as atomic. Handles the
/// <c>$patch</c>, <c>$retainKeys</c>, <c>$setElementOrder/</c> and <c>$deleteFromPrimitiveList/</c>
/// directives kubectl's client-side apply sends.
/// </summary>
internal static class StrategicMergePatch
{
    private static readonly Dictionary<string, string> MergeKeys = new(StringComparer.Ordinal)
    {
        ["containers"] = "name",
        ["initContainers"] = "name",
        ["ephemeralContainers"] = "name",
        ["env"] = "name",
        ["volumes"] = "name",
        ["volumeMounts"] = "mountPath",
        ["volumeDevices"] = "devicePath",
        ["imagePullSecrets"] = "name",
        ["conditions"] = "type",
        ["ownerReferences"] = "uid",
        ["hostAliases"] = "ip",
        ["topologySpreadConstraints"] = "topologyKey",
        ["ports"] = "port",
    };

    private static readonly HashSet<string> PrimitiveMergeLists = ["finalizers"];

    public static JsonNode? Apply(JsonNode? target, JsonNode? patch) => ApplyObject(target, patch);

    private static JsonNode? ApplyObject(JsonNode? target, JsonNode? patch)
    {
        if (patch is not JsonObject p)
        {
            return patch?.DeepClone();
        }

        var directive = JsonUtil.Str(p["$patch"]);
        if (directive == "replace")
        {
            var copy = (JsonObject)p.DeepClone();
            copy.Remove("$patch");
            return copy;
        }

        if (directive == "delete")
        {
            return null;
        }

        var result = target as JsonObject ?? [];
        if (p["$retainKeys"] is JsonArray retain)
        {
            var keep = JsonUtil.StringList(retain).ToHashSet();
            foreach (var key in result.Select(kv => kv.Key).Where(k => !keep.Contains(k)).ToList())
            {
                result.Remove(key);
            }
        }

        foreach (var (key, value) in p)
        {
            if (key.StartsWith("$setElementOrder/", StringComparison.Ordinal) || key is "$retainKeys" or "$patch")
            {
                continue;
            }

            if (key.StartsWith("$deleteFromPrimitiveList/", StringComparison.Ordinal))
            {
                var field = key["$deleteFromPrimitiveList/".Length..];
                if (result[field] is JsonArray list)
                {
                    var remove = (value as JsonArray ?? []).Select(v => v?.ToJsonString()).ToHashSet();
                    for (var i = list.Count - 1; i >= 0; i--)
                    {
                        if (remove.Contains(list[i]?.ToJsonString()))
                        {
                            list.RemoveAt(i);
                        }
                    }
                }

                continue;
            }

            var existing = result[key];
            result.Remove(key);
            if (value is null)
            {
                continue;
            }

            var merged = value is JsonArray patchList && existing is JsonArray targetList
                ? MergeList(key, targetList, patchList)
                : ApplyObject(existing, value);
            if (merged is not null)
            {
                result[key] = merged;
            }
        }

        return result;
    }

    private static JsonArray MergeList(string field, JsonArray target, JsonArray patch)
    {
        if (patch.Any(i => i is JsonObject o && JsonUtil.Str(o["$patch"]) == "replace"))
        {
            return new JsonArray(patch.Where(i => !(i is JsonObject o && JsonUtil.Str(o["$patch"]) == "replace")).Select(i => i?.DeepClone()).ToArray());
        }

        if (PrimitiveMergeLists.Contains(field) && patch.All(i => i is JsonValue))
        {
            var seen = target.Select(i => i?.ToJsonString()).ToHashSet();
            var result = new JsonArray(target.Select(i => i?.DeepClone()).ToArray());
            foreach (var item in patch.Where(item => seen.Add(item?.ToJsonString())))
            {
                result.Add(item?.DeepClone());
            }

            return result;
        }

        if (!MergeKeys.TryGetValue(field, out var mergeKey) || !patch.All(i => i is JsonObject))
        {
            return (JsonArray)patch.DeepClone();
        }

        // Container ports merge on containerPort, service ports on port.
        if (field == "ports" && patch.OfType<JsonObject>().Any(o => o.ContainsKey("containerPort")))
        {
            mergeKey = "containerPort";
        }

        var items = target.Select(i => i?.DeepClone()).ToList();
        foreach (var patchItem in patch.OfType<JsonObject>())
        {
            var keyValue = patchItem[mergeKey]?.ToJsonString();
            var index = items.FindIndex(i => i is JsonObject o && o[mergeKey]?.ToJsonString() == keyValue);
            if (JsonUtil.Str(patchItem["$patch"]) == "delete")
            {
                if (index >= 0)
                {
                    items.RemoveAt(index);
                }

                continue;
            }

            if (index >= 0)
            {
                items[index] = ApplyObject(items[index], patchItem);
            }
            else
            {
                items.Add(ApplyObject(null, patchItem));
            }
        }

        return new JsonArray(items.ToArray());
    }
}
