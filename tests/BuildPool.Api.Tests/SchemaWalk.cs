using k8s.Models;

namespace BuildPool.Api.Tests;

/// <summary>Finds and enumerates nodes of a generated schema by dotted path.</summary>
internal static class SchemaWalk
{
    internal static V1JSONSchemaProps Root(V1CustomResourceDefinition crd) =>
        crd.Spec.Versions.Single().Schema.OpenAPIV3Schema;

    /// <summary>Node at a path like <c>spec.cacheTargets[].name</c>; <c>[]</c> steps into list items.</summary>
    internal static V1JSONSchemaProps At(V1CustomResourceDefinition crd, string path)
    {
        var node = Root(crd);
        foreach (var segment in path.Split('.'))
        {
            var name = segment.EndsWith("[]", StringComparison.Ordinal) ? segment[..^2] : segment;
            node = node.Properties?.TryGetValue(name, out var child) == true
                ? child
                : throw new KeyNotFoundException($"{crd.Metadata.Name}: no property {name} in {path}");
            if (segment.EndsWith("[]", StringComparison.Ordinal))
            {
                node = (V1JSONSchemaProps)node.Items;
            }
        }

        return node;
    }

    /// <summary>Every node with its path, parents first.</summary>
    internal static IEnumerable<(string Path, V1JSONSchemaProps Node)> All(V1JSONSchemaProps root, string path = "")
    {
        yield return (path, root);
        foreach (var (name, child) in root.Properties ?? new Dictionary<string, V1JSONSchemaProps>())
        {
            foreach (var item in All(child, path.Length == 0 ? name : $"{path}.{name}"))
            {
                yield return item;
            }
        }

        if (root.Items is V1JSONSchemaProps items)
        {
            foreach (var item in All(items, path + "[]"))
            {
                yield return item;
            }
        }

        if (root.AdditionalProperties is V1JSONSchemaProps values)
        {
            foreach (var item in All(values, path + "{}"))
            {
                yield return item;
            }
        }
    }
}
