using System.Text.Json.Nodes;
using BuildPool.LocalApi.Http;
using BuildPool.LocalApi.Json;

namespace BuildPool.LocalApi.Patching;

/// <summary>RFC 6902 JSON patch (add, remove, replace, move, copy, test).</summary>
internal static class JsonPatch
{
    public static JsonNode Apply(JsonNode document, JsonNode? patch)
    {
        if (patch is not JsonArray ops)
        {
            throw Status.BadRequest("json: cannot unmarshal object into Go value of type jsonpatch.Patch");
        }

        var root = new JsonObject { ["r"] = document };
        foreach (var op in ops.OfType<JsonObject>())
        {
            var kind = JsonUtil.Str(op["op"]) ?? "";
            var path = "/r" + (JsonUtil.Str(op["path"]) ?? "");
            switch (kind)
            {
                case "add":
                    Add(root, path, op["value"]?.DeepClone());
                    break;
                case "remove":
                    Remove(root, path);
                    break;
                case "replace":
                    Remove(root, path);
                    Add(root, path, op["value"]?.DeepClone());
                    break;
                case "move":
                    {
                        var from = "/r" + JsonUtil.Str(op["from"]);
                        var value = Remove(root, from);
                        Add(root, path, value);
                        break;
                    }

                case "copy":
                    Add(root, path, Get(root, "/r" + JsonUtil.Str(op["from"]))?.DeepClone());
                    break;
                case "test":
                    if (!JsonNode.DeepEquals(Get(root, path), op["value"]))
                    {
                        throw Status.Failure(422, "Invalid", $"the server rejected our request due to an error in our request: testing value {JsonUtil.Str(op["path"])} failed").ToException(422);
                    }

                    break;
                default:
                    throw Status.BadRequest($"Unexpected kind: {kind}");
            }
        }

        var result = root["r"]!;
        root.Remove("r");
        return result;
    }

    private static ApiException ToException(this JsonObject status, int code) => new(code, status);

    private static (JsonNode Parent, string Last) Resolve(JsonObject root, string path)
    {
        var parts = path.Split('/').Skip(1).Select(p => p.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)).ToArray();
        JsonNode? node = root;
        foreach (var part in parts[..^1])
        {
            node = node switch
            {
                JsonObject o => o[part],
                JsonArray a when int.TryParse(part, out var i) && i >= 0 && i < a.Count => a[i],
                _ => null,
            };
            if (node is null)
            {
                throw Missing(path);
            }
        }

        return (node!, parts[^1]);
    }

    private static ApiException Missing(string path) =>
        new(422, Status.Failure(422, "Invalid", $"the server rejected our request due to an error in our request: doc is missing path: \"{path[2..]}\""));

    private static JsonNode? Get(JsonObject root, string path)
    {
        var (parent, last) = Resolve(root, path);
        return parent switch
        {
            JsonObject o => o[last],
            JsonArray a when int.TryParse(last, out var i) && i >= 0 && i < a.Count => a[i],
            _ => null,
        };
    }

    private static void Add(JsonObject root, string path, JsonNode? value)
    {
        var (parent, last) = Resolve(root, path);
        switch (parent)
        {
            case JsonObject o:
                o.Remove(last);
                o[last] = value;
                break;
            case JsonArray a when last == "-":
                a.Add(value);
                break;
            case JsonArray a when int.TryParse(last, out var i) && i >= 0 && i <= a.Count:
                a.Insert(i, value);
                break;
            default:
                throw Missing(path);
        }
    }

    private static JsonNode? Remove(JsonObject root, string path)
    {
        var (parent, last) = Resolve(root, path);
        switch (parent)
        {
            case JsonObject o when o.ContainsKey(last):
                var v = o[last];
                o.Remove(last);
                return v;
            case JsonArray a when int.TryParse(last, out var i) && i >= 0 && i < a.Count:
                var item = a[i];
                a.RemoveAt(i);
                return item;
            default:
                throw Missing(path);
        }
    }
}
