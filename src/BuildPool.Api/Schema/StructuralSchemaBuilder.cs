using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Schema;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using k8s.Models;

namespace BuildPool.Api.Schema;

/// <summary>
/// Turns the JSON schema System.Text.Json exports for an entity type into a Kubernetes
/// structural schema: every node typed, no <c>$ref</c>, no nullability unions, attributes
/// and XML docs applied.
/// </summary>
internal static class StructuralSchemaBuilder
{
    // Property-level facts (description, default, bounds) are parked under this key while the
    // exporter runs: a repeated type is emitted once and referenced with $ref, so facts of the
    // first property that used the type must not leak into the places that reference it.
    private const string PropertyFacts = "x-buildpool-property";
    private const string EnumValueDocs = "x-buildpool-enum-docs";

    private const string QuantityPattern = @"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$";

    private static readonly JsonSerializerOptions s_options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
    };

    internal static JsonObject Build(Type entityType, XmlDocumentation docs)
    {
        var exporterOptions = new JsonSchemaExporterOptions
        {
            TreatNullObliviousAsNonNullable = true,
            TransformSchemaNode = (context, node) => Transform(context, node, docs),
        };
        var exported = s_options.GetJsonSchemaAsNode(entityType, exporterOptions);
        var inlined = (JsonObject)Inline(exported, exported, 0);
        return Finish(inlined);
    }

    private static JsonNode Transform(JsonSchemaExporterContext context, JsonNode node, XmlDocumentation docs)
    {
        var type = Nullable.GetUnderlyingType(context.TypeInfo.Type) ?? context.TypeInfo.Type;
        var schema = node as JsonObject ?? [];
        var isReference = schema.ContainsKey("$ref");

        if (type == typeof(V1ObjectMeta) || type == typeof(V1ListMeta))
        {
            // The API server owns metadata's schema; a CRD may only say it is an object.
            return new JsonObject { ["type"] = "object" };
        }

        if (type == typeof(V1Condition))
        {
            schema = ConditionSchema.Create();
        }
        else if (type == typeof(ResourceQuantity))
        {
            schema = new JsonObject { ["x-kubernetes-int-or-string"] = true, ["pattern"] = QuantityPattern };
        }
        else if (type == typeof(IntOrString))
        {
            schema = new JsonObject { ["x-kubernetes-int-or-string"] = true };
        }
        else if (!isReference)
        {
            AddTypeFacts(schema, type, context.TypeInfo, docs);
            AddMapValues(schema, context.TypeInfo);
        }

        if (context.PropertyInfo?.AttributeProvider is PropertyInfo property)
        {
            schema[PropertyFacts] = PropertyFactsOf(property, docs);
        }

        return schema;
    }

    // The exporter gives up on values with a custom converter (ResourceQuantity in resource
    // limits) and emits a bare object, which the API server would prune to nothing.
    private static void AddMapValues(JsonObject schema, JsonTypeInfo typeInfo)
    {
        if (typeInfo.Kind != JsonTypeInfoKind.Dictionary || schema.ContainsKey("additionalProperties"))
        {
            return;
        }

        var valueType = typeInfo.ElementType;
        if (valueType == typeof(ResourceQuantity))
        {
            schema["additionalProperties"] = new JsonObject { ["x-kubernetes-int-or-string"] = true, ["pattern"] = QuantityPattern };
        }
        else if (valueType == typeof(IntOrString))
        {
            schema["additionalProperties"] = new JsonObject { ["x-kubernetes-int-or-string"] = true };
        }
        else
        {
            throw new InvalidOperationException($"Map values of type {valueType} have no schema; give the type a schema in {nameof(StructuralSchemaBuilder)}.");
        }
    }

    private static void AddTypeFacts(JsonObject schema, Type type, JsonTypeInfo typeInfo, XmlDocumentation docs)
    {
        if (IsDocumented(type) && docs.Summary(type) is { } description)
        {
            schema["description"] = description;
        }

        if (type == typeof(int))
        {
            schema["format"] = "int32";
        }
        else if (type == typeof(long))
        {
            schema["format"] = "int64";
        }
        else if (type == typeof(double))
        {
            schema["format"] = "double";
        }

        if (type.IsEnum)
        {
            var lines = type.GetFields(BindingFlags.Public | BindingFlags.Static)
                .Select(f => $"- {JsonName(f)}: {docs.Summary(f)}");
            schema[EnumValueDocs] = "Possible values:\n" + string.Join('\n', lines);
        }

        if (typeInfo.Kind == JsonTypeInfoKind.Object)
        {
            var required = typeInfo.Properties
                .Where(p => p.AttributeProvider?.IsDefined(typeof(RequiredAttribute), false) == true)
                .Select(p => p.Name)
                .ToList();
            if (required.Count > 0)
            {
                var existing = (schema["required"] as JsonArray)?.Select(n => n!.GetValue<string>()) ?? [];
                schema["required"] = new JsonArray([.. existing.Union(required).Order(StringComparer.Ordinal).Select(n => (JsonNode)n)]);
            }

            var rules = type.GetCustomAttributes<ValidationRuleAttribute>(false).ToList();
            if (rules.Count > 0)
            {
                schema["x-kubernetes-validations"] = new JsonArray([.. rules.Select(Rule)]);
            }
        }
    }

    private static JsonObject PropertyFactsOf(PropertyInfo property, XmlDocumentation docs)
    {
        var facts = new JsonObject();
        if (docs.Summary(property) is { } description)
        {
            facts["description"] = description;
        }

        foreach (var attribute in property.GetCustomAttributes(false))
        {
            switch (attribute)
            {
                case DefaultAttribute a:
                    facts["default"] = JsonNode.Parse(a.Json);
                    break;
                case PatternAttribute a:
                    facts["pattern"] = a.Pattern;
                    break;
                case MinimumAttribute a:
                    facts["minimum"] = a.Value;
                    break;
                case MaximumAttribute a:
                    facts["maximum"] = a.Value;
                    break;
                case MaxLengthAttribute a:
                    facts["maxLength"] = a.Length;
                    break;
                case MinLengthAttribute a:
                    facts["minLength"] = a.Length;
                    break;
                case MaxItemsAttribute a:
                    facts["maxItems"] = a.Count;
                    break;
                case MinItemsAttribute a:
                    facts["minItems"] = a.Count;
                    break;
                case ListTypeAttribute a:
                    facts["x-kubernetes-list-type"] = a.ListType;
                    break;
                case ListMapKeysAttribute a:
                    facts["x-kubernetes-list-map-keys"] = new JsonArray([.. a.Keys.Select(k => (JsonNode)k)]);
                    break;
                case PreserveUnknownFieldsAttribute:
                    facts["x-kubernetes-preserve-unknown-fields"] = true;
                    break;
                case IntOrStringAttribute:
                    facts["x-kubernetes-int-or-string"] = true;
                    break;
            }
        }

        var rules = property.GetCustomAttributes<ValidationRuleAttribute>(false).ToList();
        if (rules.Count > 0)
        {
            facts["x-kubernetes-validations"] = new JsonArray([.. rules.Select(Rule)]);
        }

        return facts;
    }

    private static JsonNode Rule(ValidationRuleAttribute rule) =>
        new JsonObject { ["rule"] = rule.Rule, ["message"] = rule.Message };

    private static bool IsDocumented(Type type) =>
        type.Assembly == typeof(StructuralSchemaBuilder).Assembly || type.Assembly == typeof(V1Affinity).Assembly;

    private static string JsonName(FieldInfo field) =>
        field.GetCustomAttribute<JsonStringEnumMemberNameAttribute>()?.Name ?? field.Name;

    private static JsonNode Inline(JsonNode node, JsonNode root, int depth)
    {
        if (depth > 256)
        {
            throw new InvalidOperationException("Schema nesting is too deep; a recursive type cannot be a structural schema.");
        }

        switch (node)
        {
            case JsonObject o when o["$ref"] is JsonValue reference:
                var target = (JsonObject)Resolve(root, reference.GetValue<string>()).DeepClone();
                target.Remove(PropertyFacts);
                foreach (var (key, value) in o)
                {
                    if (key != "$ref")
                    {
                        target[key] = value?.DeepClone();
                    }
                }

                return Inline(target, root, depth + 1);
            case JsonObject o:
                var copy = new JsonObject();
                foreach (var (key, value) in o)
                {
                    copy[key] = value is null ? null : Inline(value, root, depth + 1);
                }

                return copy;
            case JsonArray a:
                return new JsonArray([.. a.Select(item => item is null ? null : Inline(item, root, depth + 1))]);
            default:
                return node.DeepClone();
        }
    }

    private static JsonNode Resolve(JsonNode root, string pointer)
    {
        if (!pointer.StartsWith('#'))
        {
            throw new InvalidOperationException($"Unexpected schema reference {pointer}.");
        }

        var current = root;
        foreach (var segment in pointer[1..].Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            var name = segment.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
            current = current[name] ?? throw new InvalidOperationException($"Schema reference {pointer} does not resolve.");
        }

        return current;
    }

    private static JsonObject Finish(JsonObject schema)
    {
        RemoveNullability(schema);

        if (schema["properties"] is JsonObject properties)
        {
            var sorted = new JsonObject();
            foreach (var (name, value) in properties.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                sorted[name] = Finish((JsonObject)value!.DeepClone());
            }

            schema["properties"] = sorted;
        }

        if (schema["items"] is JsonObject items)
        {
            schema["items"] = Finish((JsonObject)items.DeepClone());
        }

        if (schema["additionalProperties"] is JsonObject additional)
        {
            schema["additionalProperties"] = Finish((JsonObject)additional.DeepClone());
        }

        if (schema[PropertyFacts] is JsonObject facts)
        {
            schema.Remove(PropertyFacts);
            ApplyPropertyFacts(schema, facts);
        }

        if (schema[EnumValueDocs] is JsonValue enumDocs)
        {
            schema.Remove(EnumValueDocs);
            var text = enumDocs.GetValue<string>();
            schema["description"] = schema["description"] is JsonValue d ? d.GetValue<string>() + "\n\n" + text : text;
        }

        return schema;
    }

    private static void RemoveNullability(JsonObject schema)
    {
        if (schema["type"] is JsonArray types)
        {
            var nonNull = types.Select(t => t!.GetValue<string>()).Where(t => t != "null").ToList();
            schema["type"] = nonNull.Count == 1
                ? nonNull[0]
                : throw new InvalidOperationException($"Union type [{string.Join(", ", nonNull)}] has no structural schema; use [IntOrString] or one type.");
        }

        if (schema["enum"] is JsonArray values)
        {
            var nonNull = values.Where(v => v is not null).ToList();
            schema["enum"] = new JsonArray([.. nonNull.Select(v => v!.DeepClone())]);

            // String-valued enums come out of the exporter without a type.
            if (!schema.ContainsKey("type") && nonNull.All(v => v!.GetValueKind() == JsonValueKind.String))
            {
                schema["type"] = "string";
            }
        }
    }

    private static void ApplyPropertyFacts(JsonObject schema, JsonObject facts)
    {
        var isArray = schema["type"] is JsonValue t && t.GetValue<string>() == "array";
        foreach (var (key, value) in facts)
        {
            var copy = value?.DeepClone();
            switch (key)
            {
                // String facts on a list describe its items: [Pattern] on IList<string>.
                case "pattern" or "maxLength" or "minLength" when isArray:
                    ((JsonObject)schema["items"]!)[key] = copy;
                    break;
                case "x-kubernetes-int-or-string":
                    schema.Remove("type");
                    schema.Remove("format");
                    schema[key] = copy;
                    break;
                case "x-kubernetes-validations" when schema[key] is JsonArray existing:
                    foreach (var rule in (JsonArray)copy!)
                    {
                        existing.Add(rule!.DeepClone());
                    }

                    break;
                default:
                    schema[key] = copy;
                    break;
            }
        }
    }
}
