using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace BuildPool.Host.Cluster;

/// <summary>
/// Creates or updates CRDs and custom objects from YAML, like <c>kubectl apply</c> does for the
/// files `make run` installs. Kinds are resolved through the CRDs it knows (no discovery round
/// trips), so it works before the API server has published a new CRD's resource list.
/// </summary>
public sealed class ManifestApplier(IKubernetes client, IReadOnlyList<V1CustomResourceDefinition> knownCrds)
{
    // Like kubectl's default: a misspelt field is an error, not silently dropped.
    private const string Strict = "Strict";

    /// <summary>What <c>make run</c> / <c>buildpool dev</c> applies shows in <c>managedFields</c> under this name.</summary>
    public const string FieldManager = "buildpool-dev";

    public async Task<int> ApplyCrdsAsync(CancellationToken cancellationToken)
    {
        foreach (var crd in knownCrds)
        {
            try
            {
                var existing = await client.ApiextensionsV1.ReadCustomResourceDefinitionAsync(crd.Metadata.Name, cancellationToken: cancellationToken);
                crd.Metadata.ResourceVersion = existing.Metadata.ResourceVersion;
                await client.ApiextensionsV1.ReplaceCustomResourceDefinitionAsync(crd, crd.Metadata.Name, fieldManager: FieldManager, cancellationToken: cancellationToken);
            }
            catch (HttpOperationException ex) when (ex.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
            {
                await client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(crd, fieldManager: FieldManager, cancellationToken: cancellationToken);
            }
        }

        return knownCrds.Count;
    }

    /// <summary>Applies every document of every *.yaml file in a directory; returns "kind/name" of each.</summary>
    public async Task<IReadOnlyList<string>> ApplyDirectoryAsync(string directory, string defaultNamespace, CancellationToken cancellationToken)
    {
        var applied = new List<string>();
        foreach (var file in Directory.GetFiles(directory, "*.yaml").Order(StringComparer.Ordinal))
        {
            foreach (var doc in ReadDocuments(await File.ReadAllTextAsync(file, cancellationToken)))
            {
                applied.Add(await ApplyAsync(doc, defaultNamespace, file, cancellationToken));
            }
        }

        return applied;
    }

    private async Task<string> ApplyAsync(JsonObject doc, string defaultNamespace, string file, CancellationToken cancellationToken)
    {
        var apiVersion = doc["apiVersion"]?.GetValue<string>() ?? throw new InvalidDataException($"{file}: a document has no apiVersion");
        var kind = doc["kind"]?.GetValue<string>() ?? throw new InvalidDataException($"{file}: a document has no kind");
        var name = doc["metadata"]?["name"]?.GetValue<string>() ?? throw new InvalidDataException($"{file}: {kind} has no metadata.name");
        var slash = apiVersion.IndexOf('/', StringComparison.Ordinal);
        var group = slash < 0 ? string.Empty : apiVersion[..slash];
        var version = apiVersion[(slash + 1)..];
        var crd = knownCrds.FirstOrDefault(c => c.Spec.Group == group && c.Spec.Names.Kind == kind)
            ?? throw new InvalidDataException($"{file}: {apiVersion} {kind} is not a BuildPool kind; apply it with kubectl");
        var plural = crd.Spec.Names.Plural;
        var ns = doc["metadata"]!["namespace"]?.GetValue<string>() ?? defaultNamespace;
        doc["metadata"]!["namespace"] = ns;
        try
        {
            var existing = await client.CustomObjects.GetNamespacedCustomObjectAsync(group, version, ns, plural, name, cancellationToken);
            doc["metadata"]!["resourceVersion"] = ResourceVersionOf(existing);
            await client.CustomObjects.ReplaceNamespacedCustomObjectAsync(doc, group, version, ns, plural, name, fieldManager: FieldManager, fieldValidation: Strict, cancellationToken: cancellationToken);
        }
        catch (HttpOperationException ex) when (ex.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            await client.CustomObjects.CreateNamespacedCustomObjectAsync(doc, group, version, ns, plural, fieldManager: FieldManager, fieldValidation: Strict, cancellationToken: cancellationToken);
        }

        return $"{kind}/{name}";
    }

    public static IEnumerable<JsonObject> ReadDocuments(string yaml) =>
        BuildPool.LocalApi.Json.YamlJson.ParseDocuments(yaml).OfType<JsonObject>();

    // The custom-objects API returns the object as a boxed JSON element.
    private static string? ResourceVersionOf(object value) =>
        JsonNode.Parse(KubernetesJson.Serialize(value))?["metadata"]?["resourceVersion"]?.GetValue<string>();
}
