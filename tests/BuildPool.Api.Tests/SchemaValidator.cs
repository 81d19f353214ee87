using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using k8s.Models;

namespace BuildPool.Api.Tests;

/// <summary>
/// The subset of OpenAPI validation the API server applies to custom resources, enough to
/// check that defaults and serialized objects fit the generated schemas. Unknown fields are
/// errors here, where the API server would silently prune them.
/// </summary>
internal static class SchemaValidator
{
    internal static List<string> Validate(JsonNode? value, V1JSONSchemaProps schema, string path = "")
    {
        var errors = new List<string>();
        Validate(value, schema, path, errors);
        return errors;
    }

    internal static JsonNode? ToNode(object? clrValue) => JsonSerializer.SerializeToNode(clrValue);

    private static void Validate(JsonNode? value, V1JSONSchemaProps schema, string path, List<string> errors)
    {
        if (value is null)
        {
            errors.Add($"{path}: null is not allowed");
            return;
        }

        var kind = value.GetValueKind();
        if (schema.XKubernetesIntOrString == true)
        {
            if (kind is not (JsonValueKind.String or JsonValueKind.Number))
            {
                errors.Add($"{path}: {kind} is neither integer nor string");
            }

            if (kind == JsonValueKind.String && schema.Pattern is { } p && !Regex.IsMatch(value.GetValue<string>(), p))
            {
                errors.Add($"{path}: '{value}' does not match {p}");
            }

            return;
        }

        var typeMatches = schema.Type switch
        {
            "string" => kind == JsonValueKind.String,
            "boolean" => kind is JsonValueKind.True or JsonValueKind.False,
            "integer" => kind == JsonValueKind.Number && long.TryParse(value.ToJsonString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out _),
            "number" => kind == JsonValueKind.Number,
            "array" => kind == JsonValueKind.Array,
            "object" => kind == JsonValueKind.Object,
            _ => false,
        };
        if (!typeMatches)
        {
            errors.Add($"{path}: {kind} {value.ToJsonString()} is not of type {schema.Type ?? "(none)"}");
            return;
        }

        if (schema.EnumProperty is { } allowed && !allowed.Any(a => JsonNode.DeepEquals(ToNode(a), value)))
        {
            errors.Add($"{path}: {value.ToJsonString()} is not one of [{string.Join(", ", allowed)}]");
        }

        switch (value)
        {
            case JsonValue v when kind == JsonValueKind.String:
                var text = v.GetValue<string>();
                if (schema.Pattern is { } pattern && !Regex.IsMatch(text, pattern))
                {
                    errors.Add($"{path}: '{text}' does not match {pattern}");
                }

                if (schema.MaxLength is { } max && text.Length > max)
                {
                    errors.Add($"{path}: longer than {max}");
                }

                if (schema.MinLength is { } min && text.Length < min)
                {
                    errors.Add($"{path}: shorter than {min}");
                }

                if (schema.Format == "date-time" && !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, out _))
                {
                    errors.Add($"{path}: '{text}' is not a date-time");
                }

                break;
            case JsonValue v when kind == JsonValueKind.Number:
                var number = double.Parse(v.ToJsonString(), CultureInfo.InvariantCulture);
                if (schema.Minimum is { } low && number < low)
                {
                    errors.Add($"{path}: {number} is below {low}");
                }

                if (schema.Maximum is { } high && number > high)
                {
                    errors.Add($"{path}: {number} is above {high}");
                }

                break;
            case JsonArray array:
                if (schema.MaxItems is { } maxItems && array.Count > maxItems)
                {
                    errors.Add($"{path}: more than {maxItems} items");
                }

                if (schema.MinItems is { } minItems && array.Count < minItems)
                {
                    errors.Add($"{path}: fewer than {minItems} items");
                }

                for (var i = 0; i < array.Count; i++)
                {
                    Validate(array[i], (V1JSONSchemaProps)schema.Items, $"{path}[{i}]", errors);
                }

                break;
            case JsonObject obj when path == "metadata" && schema.Properties is null:
                // The API server validates object metadata itself; the CRD only says "object".
                break;
            case JsonObject obj:
                foreach (var required in schema.Required ?? [])
                {
                    if (!obj.ContainsKey(required))
                    {
                        errors.Add($"{path}: required field {required} is missing");
                    }
                }

                foreach (var (name, child) in obj)
                {
                    var childPath = path.Length == 0 ? name : $"{path}.{name}";
                    if (schema.Properties?.TryGetValue(name, out var childSchema) == true)
                    {
                        Validate(child, childSchema, childPath, errors);
                    }
                    else if (schema.AdditionalProperties is V1JSONSchemaProps values)
                    {
                        Validate(child, values, childPath, errors);
                    }
                    else if (schema.XKubernetesPreserveUnknownFields != true)
                    {
                        errors.Add($"{childPath}: unknown field (the API server would prune it)");
                    }
                }

                break;
        }
    }
}
