using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;

namespace BuildPool.Packaging.Tests;

/// <summary>
/// Reads rendered manifests into the KubernetesClient model types, and says which fields the
/// models did not keep: a field the model drops is a field the API server would reject (or, with
/// a misspelt name, silently ignore).
/// </summary>
public static class KubernetesModels
{
    /// <summary>"apiVersion/kind" → model type, from the [KubernetesEntity] attributes of the built-in models.</summary>
    public static IReadOnlyDictionary<string, Type> TypeMap { get; } = typeof(V1Pod).Assembly.GetTypes()
        .Select(t => (Type: t, Entity: t.GetCustomAttribute<KubernetesEntityAttribute>()))
        .Where(x => x.Entity is not null && x.Type.Namespace == typeof(V1Pod).Namespace)
        .GroupBy(x => Key(x.Entity!.Group, x.Entity.ApiVersion, x.Entity.Kind))
        .ToDictionary(g => g.Key, g => g.First().Type, StringComparer.Ordinal);

    private static readonly Dictionary<string, Type> TypeMapForLoad = new(TypeMap, StringComparer.Ordinal);

    public sealed record Loaded(string ApiVersion, string Kind, string Name, IKubernetesObject Model, JsonNode Input)
    {
        public override string ToString() => $"{Kind} {Name}";
    }

    /// <summary>
    /// Every document of a multi-document YAML stream as its model; throws naming the document
    /// when a kind has no model type or a field is unknown to it (strict deserialization).
    /// </summary>
    public static IReadOnlyList<Loaded> LoadAll(string yaml)
    {
        var inputs = YamlJson.LoadAll(yaml);
        var loaded = new List<Loaded>();
        foreach (var input in inputs)
        {
            if (input is not JsonObject obj)
            {
                throw new InvalidOperationException($"A document is not a mapping: {input?.ToJsonString()}");
            }

            var apiVersion = (string?)obj["apiVersion"] ?? throw new InvalidOperationException($"A document has no apiVersion: {Head(obj)}");
            var kind = (string?)obj["kind"] ?? throw new InvalidOperationException($"A document has no kind: {Head(obj)}");
            var name = (string?)obj["metadata"]?["name"] ?? "";
            if (!TypeMap.TryGetValue($"{apiVersion}/{kind}", out var type))
            {
                throw new InvalidOperationException($"{kind} {name}: no KubernetesClient model for apiVersion {apiVersion} kind {kind}.");
            }

            IKubernetesObject model;
            try
            {
                // Strict: a YAML key the model has no property for is an error, not a silent drop.
                model = (IKubernetesObject)KubernetesYaml.LoadAllFromString(YamlOf(obj), TypeMapForLoad, strict: true).Single();
            }
            catch (Exception ex) when (ex is YamlDotNet.Core.YamlException or JsonException)
            {
                throw new InvalidOperationException($"{kind} {name} does not deserialize into {type.Name}: {ex.Message}", ex);
            }

            loaded.Add(new Loaded(apiVersion, kind, name, model, obj));
        }

        return loaded;
    }

    /// <summary>
    /// Paths where the model, serialized again, differs from the input. Nulls and empty
    /// maps/lists count as absent on both sides, numbers compare by value.
    /// </summary>
    public static IReadOnlyList<string> RoundTripDifferences(Loaded loaded)
    {
        ArgumentNullException.ThrowIfNull(loaded);
        var output = JsonNode.Parse(KubernetesJson.Serialize(loaded.Model));
        var differences = new List<string>();
        Compare(Normalize(loaded.Input), Normalize(output), "", differences);
        return differences;
    }

    private static string YamlOf(JsonObject obj) =>
        // JSON is YAML; going through text keeps the model's own converters (IntOrString, Quantity, …) in charge.
        obj.ToJsonString();

    private static string Key(string group, string version, string kind) =>
        string.IsNullOrEmpty(group) ? $"{version}/{kind}" : $"{group}/{version}/{kind}";

    private static string Head(JsonObject obj)
    {
        var text = obj.ToJsonString();
        return text.Length > 200 ? text[..200] + "…" : text;
    }

    private static JsonNode? Normalize(JsonNode? node) => node switch
    {
        JsonObject obj => Empty(new JsonObject(obj
            .Select(kv => KeyValuePair.Create(kv.Key, Normalize(kv.Value)))
            .Where(kv => kv.Value is not null))),
        JsonArray array => Empty(new JsonArray([.. array.Select(Normalize)])),
        JsonValue value => value.DeepClone(),
        _ => null,
    };

    private static JsonNode? Empty(JsonObject obj) => obj.Count == 0 ? null : obj;

    private static JsonNode? Empty(JsonArray array) => array.Count == 0 ? null : array;

    private static void Compare(JsonNode? input, JsonNode? output, string path, List<string> differences)
    {
        switch (input, output)
        {
            case (null, null):
                return;
            case (JsonObject a, JsonObject b):
                foreach (var key in a.Select(kv => kv.Key).Union(b.Select(kv => kv.Key)).Order(StringComparer.Ordinal))
                {
                    Compare(a[key], b[key], $"{path}.{key}", differences);
                }

                return;
            case (JsonArray a, JsonArray b) when a.Count == b.Count:
                for (var i = 0; i < a.Count; i++)
                {
                    Compare(a[i], b[i], $"{path}[{i}]", differences);
                }

                return;
            case (JsonValue a, JsonValue b) when SameScalar(a, b):
                return;
            default:
                differences.Add($"{(path.Length == 0 ? "." : path)}: input {Show(input)}, model {Show(output)}");
                return;
        }
    }

    private static bool SameScalar(JsonValue a, JsonValue b)
    {
        var (ea, eb) = (a.GetValueKind(), b.GetValueKind());
        if (ea == JsonValueKind.Number && eb == JsonValueKind.Number)
        {
            return decimal.Parse(a.ToJsonString(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture)
                == decimal.Parse(b.ToJsonString(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture);
        }

        return JsonNode.DeepEquals(a, b);
    }

    private static string Show(JsonNode? node) => node is null ? "(absent)" : node.ToJsonString();
}
