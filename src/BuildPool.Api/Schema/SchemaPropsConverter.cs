using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s.Models;

namespace BuildPool.Api.Schema;

/// <summary>
/// Maps a finished schema node onto <see cref="V1JSONSchemaProps"/>. Keys it does not know
/// throw, so an exporter change can never slip an unsupported keyword into a CRD.
/// </summary>
internal static class SchemaPropsConverter
{
    internal static V1JSONSchemaProps Convert(JsonObject node)
    {
        var props = new V1JSONSchemaProps();
        foreach (var (key, value) in node)
        {
            switch (key)
            {
                case "type": props.Type = Text(value); break;
                case "format": props.Format = Text(value); break;
                case "description": props.Description = Text(value); break;
                case "pattern": props.Pattern = Text(value); break;
                case "default": props.DefaultProperty = Plain(value); break;
                case "enum": props.EnumProperty = [.. ((JsonArray)value!).Select(v => Plain(v)!)]; break;
                case "minimum": props.Minimum = Real(value); break;
                case "maximum": props.Maximum = Real(value); break;
                case "minLength": props.MinLength = Whole(value); break;
                case "maxLength": props.MaxLength = Whole(value); break;
                case "minItems": props.MinItems = Whole(value); break;
                case "maxItems": props.MaxItems = Whole(value); break;
                case "required": props.Required = [.. ((JsonArray)value!).Select(v => v!.GetValue<string>())]; break;
                case "items": props.Items = Convert((JsonObject)value!); break;
                case "additionalProperties":
                    props.AdditionalProperties = value is JsonObject o ? Convert(o) : value!.GetValue<bool>();
                    break;
                case "properties":
                    props.Properties = ((JsonObject)value!).ToDictionary(p => p.Key, p => Convert((JsonObject)p.Value!));
                    break;
                case "x-kubernetes-int-or-string": props.XKubernetesIntOrString = value!.GetValue<bool>(); break;
                case "x-kubernetes-preserve-unknown-fields": props.XKubernetesPreserveUnknownFields = value!.GetValue<bool>(); break;
                case "x-kubernetes-list-type": props.XKubernetesListType = Text(value); break;
                case "x-kubernetes-list-map-keys": props.XKubernetesListMapKeys = [.. ((JsonArray)value!).Select(v => v!.GetValue<string>())]; break;
                case "x-kubernetes-map-type": props.XKubernetesMapType = Text(value); break;
                case "x-kubernetes-validations":
                    props.XKubernetesValidations = [.. ((JsonArray)value!).Select(r => new V1ValidationRule
                    {
                        Rule = r!["rule"]!.GetValue<string>(),
                        Message = r["message"]?.GetValue<string>(),
                    })];
                    break;
                default:
                    throw new InvalidOperationException($"Schema keyword '{key}' has no structural-schema mapping.");
            }
        }

        return props;
    }

    private static string Text(JsonNode? value) => value!.GetValue<string>();

    // A JsonNode built in code keeps its CLR type (int, double); parse the JSON text instead.
    private static double Real(JsonNode? value) => double.Parse(value!.ToJsonString(), CultureInfo.InvariantCulture);

    private static long Whole(JsonNode? value) => long.Parse(value!.ToJsonString(), CultureInfo.InvariantCulture);

    // YAML serialization needs plain CLR values; JsonElement would serialize as its own properties.
    internal static object? Plain(JsonNode? node) => node switch
    {
        null => null,
        JsonObject o => o.OrderBy(p => p.Key, StringComparer.Ordinal).ToDictionary(p => p.Key, p => Plain(p.Value)),
        JsonArray a => a.Select(Plain).ToList(),
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => v.GetValue<string>(),
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.Number when long.TryParse(v.ToJsonString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) => l,
            JsonValueKind.Number => double.Parse(v.ToJsonString(), CultureInfo.InvariantCulture),
            var kind => throw new InvalidOperationException($"Unsupported default value kind {kind}."),
        },
        _ => throw new InvalidOperationException($"Unsupported node {node.GetType().Name}."),
    };
}
