using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using BuildPool.LocalApi.Discovery;

namespace BuildPool.LocalApi.OpenApi;

/// <summary>
/// OpenAPI v3, per group/version, with just what kubectl reads: PATCH operations tagged with
/// <c>x-kubernetes-group-version-kind</c> and a <c>fieldValidation</c> parameter (so
/// <c>kubectl apply</c> leaves validation to the server), and component schemas for custom
/// kinds (so <c>kubectl explain</c> works). Built-in kinds get no schema: kubectl then builds
/// strategic merge patches from its compiled-in types, which know the merge keys.
/// </summary>
internal static class OpenApiDocuments
{
    public static JsonObject V3Root(ResourceRegistry registry)
    {
        var paths = new JsonObject();
        foreach (var gv in registry.All.Select(r => r.GroupVersion).Distinct())
        {
            var key = gv.Contains('/', StringComparison.Ordinal) ? $"apis/{gv}" : $"api/{gv}";
            var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(V3GroupVersion(registry, key)!.ToJsonString())))[..16];
            paths[key] = new JsonObject { ["serverRelativeURL"] = $"/openapi/v3/{key}?hash={hash}" };
        }

        return new JsonObject { ["paths"] = paths };
    }

    public static JsonObject? V3GroupVersion(ResourceRegistry registry, string path)
    {
        var parts = path.Split('/');
        var (group, version) = parts switch
        {
            ["api", var v] => ("", v),
            ["apis", var g, var v] => (g, v),
            _ => (null, null),
        };
        var types = registry.All.Where(r => r.Group == group && r.Version == version).ToList();
        if (group is null || types.Count == 0)
        {
            return null;
        }

        var paths = new JsonObject();
        var schemas = new JsonObject();
        foreach (var rt in types)
        {
            var prefix = group.Length == 0 ? $"/api/{version}" : $"/apis/{group}/{version}";
            var collection = rt.Namespaced ? $"{prefix}/namespaces/{{namespace}}/{rt.Plural}" : $"{prefix}/{rt.Plural}";
            paths[collection] = new JsonObject
            {
                ["get"] = Operation(rt, "list"),
                ["post"] = Operation(rt, "post", fieldValidation: true),
            };
            paths[collection + "/{name}"] = new JsonObject
            {
                ["get"] = Operation(rt, "get"),
                ["put"] = Operation(rt, "put", fieldValidation: true),
                ["patch"] = Operation(rt, "patch", fieldValidation: true),
                ["delete"] = Operation(rt, "delete"),
            };
            if (rt.Schema is { } schema)
            {
                var copy = (JsonObject)schema.DeepClone();
                copy["x-kubernetes-group-version-kind"] = new JsonArray(Gvk(rt));
                schemas[SchemaName(rt)] = copy;
            }
        }

        return new JsonObject
        {
            ["openapi"] = "3.0.0",
            ["info"] = new JsonObject { ["title"] = "Kubernetes", ["version"] = "v1.32.0" },
            ["paths"] = paths,
            ["components"] = new JsonObject { ["schemas"] = schemas },
        };
    }

    private static string SchemaName(ResourceType rt) =>
        string.Join('.', rt.Group.Split('.').Reverse()) + $".{rt.Version}.{rt.Kind}";

    private static JsonObject Gvk(ResourceType rt) => new() { ["group"] = rt.Group, ["kind"] = rt.Kind, ["version"] = rt.Version };

    private static JsonObject Operation(ResourceType rt, string action, bool fieldValidation = false)
    {
        var parameters = new JsonArray();
        if (fieldValidation)
        {
            parameters.Add(new JsonObject
            {
                ["name"] = "fieldValidation",
                ["in"] = "query",
                ["description"] = "fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields.",
                ["schema"] = new JsonObject { ["type"] = "string", ["uniqueItems"] = true },
            });
        }

        return new JsonObject
        {
            ["operationId"] = $"{action}{rt.Kind}",
            ["parameters"] = parameters,
            ["responses"] = new JsonObject { ["200"] = new JsonObject { ["description"] = "OK" } },
            ["x-kubernetes-action"] = action,
            ["x-kubernetes-group-version-kind"] = Gvk(rt),
        };
    }
}
