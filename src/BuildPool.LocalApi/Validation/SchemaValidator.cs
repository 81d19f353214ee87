using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using BuildPool.LocalApi.Http;
using BuildPool.LocalApi.Json;

namespace BuildPool.LocalApi.Validation;

/// <summary>
/// Structural-schema handling of custom objects in the order the API server applies it:
/// prune unknown fields (collecting them for <c>fieldValidation=Strict</c>), apply defaults,
/// then validate. Messages follow apiextensions-apiserver's conversion of kube-openapi errors.
/// </summary>
internal static class SchemaValidator
{
    private static readonly ConcurrentDictionary<string, Regex?> Patterns = new(StringComparer.Ordinal);

    /// <summary>Removes fields the schema does not declare and fills in defaults; returns the removed paths.</summary>
    public static List<string> PruneAndDefault(JsonObject obj, JsonObject schema)
    {
        var unknown = new List<string>();
        foreach (var (key, _) in obj.ToList())
        {
            if (key is "apiVersion" or "kind" or "metadata")
            {
                continue;
            }

            if (PropertySchema(schema, key) is { } child)
            {
                Prune(obj[key], child, key, unknown);
            }
            else if (!PreservesUnknown(schema))
            {
                obj.Remove(key);
                unknown.Add(key);
            }
        }

        ApplyDefaults(obj, schema, "", unknown, root: true);
        return unknown;
    }

    public static List<FieldError> Validate(JsonObject obj, JsonObject schema)
    {
        var errors = new List<FieldError>();
        if (schema["properties"] is JsonObject props)
        {
            foreach (var (key, child) in props)
            {
                if (key is "metadata" or "apiVersion" or "kind" || child is not JsonObject cs)
                {
                    continue;
                }

                if (obj.TryGetPropertyValue(key, out var value))
                {
                    ValidateNode(value, cs, key, errors);
                }
            }
        }

        foreach (var req in JsonUtil.StringList(schema["required"]))
        {
            if (!obj.ContainsKey(req))
            {
                errors.Add(new FieldError("FieldValueRequired", req, "Required value"));
            }
        }

        return errors;
    }

    private static bool PreservesUnknown(JsonObject schema) =>
        schema["x-kubernetes-preserve-unknown-fields"]?.GetValueKind() == JsonValueKind.True;

    private static JsonObject? PropertySchema(JsonObject schema, string key)
    {
        if (schema["properties"]?[key] is JsonObject p)
        {
            return p;
        }

        return schema["additionalProperties"] as JsonObject;
    }

    private static string Child(string path, string key) => path.Length == 0 ? key : $"{path}.{key}";

    /// <summary>Prunes in place, so property order survives (kubectl output stays stable).</summary>
    private static void Prune(JsonNode? node, JsonObject schema, string path, List<string> unknown)
    {
        switch (node)
        {
            case JsonObject o when schema["x-kubernetes-embedded-resource"]?.GetValueKind() != JsonValueKind.True || schema["properties"] is not null:
                foreach (var (key, _) in o.ToList())
                {
                    if (PropertySchema(schema, key) is { } child)
                    {
                        Prune(o[key], child, Child(path, key), unknown);
                    }
                    else if (!PreservesUnknown(schema) && schema["additionalProperties"]?.GetValueKind() != JsonValueKind.True)
                    {
                        o.Remove(key);
                        unknown.Add(Child(path, key));
                    }
                }

                ApplyDefaults(o, schema, path, unknown, root: false);
                break;
            case JsonArray a when schema["items"] is JsonObject items:
                for (var i = 0; i < a.Count; i++)
                {
                    Prune(a[i], items, $"{path}[{i}]", unknown);
                }

                break;
        }
    }

    private static void ApplyDefaults(JsonObject obj, JsonObject schema, string path, List<string> unknown, bool root)
    {
        if (schema["properties"] is not JsonObject props)
        {
            return;
        }

        foreach (var (key, child) in props)
        {
            if (child is not JsonObject cs || (root && key is "metadata" or "apiVersion" or "kind"))
            {
                continue;
            }

            var present = obj.TryGetPropertyValue(key, out var value);
            var nullable = cs["nullable"]?.GetValueKind() == JsonValueKind.True;

            // Nulls of non-nullable fields are pruned before defaulting, so a default still applies.
            if (present && value is null && !nullable)
            {
                obj.Remove(key);
                present = false;
            }

            if (!present && cs["default"] is { } def)
            {
                var copy = def.DeepClone();
                obj[key] = copy;
                Prune(copy, cs, Child(path, key), unknown);
            }
        }
    }

    private static void ValidateNode(JsonNode? node, JsonObject schema, string path, List<FieldError> errors)
    {
        if (node is null)
        {
            if (schema["nullable"]?.GetValueKind() != JsonValueKind.True && schema["type"] is not null)
            {
                errors.Add(new FieldError("FieldValueTypeInvalid", path, $"Invalid value: \"null\": {path} in body must be of type {JsonUtil.Str(schema["type"])}: \"null\""));
            }

            return;
        }

        var actual = JsonUtil.TypeName(node);
        var intOrString = schema["x-kubernetes-int-or-string"]?.GetValueKind() == JsonValueKind.True;
        if (intOrString)
        {
            if (actual is not ("integer" or "string"))
            {
                errors.Add(new FieldError("FieldValueTypeInvalid", path, $"Invalid value: \"{actual}\": {path} in body must be of type integer,string: \"{actual}\""));
                return;
            }
        }
        else if (JsonUtil.Str(schema["type"]) is { } expected && !TypeMatches(expected, actual))
        {
            errors.Add(new FieldError("FieldValueTypeInvalid", path, $"Invalid value: \"{actual}\": {path} in body must be of type {expected}: \"{actual}\""));
            return;
        }

        if (schema["enum"] is JsonArray allowed && !allowed.Any(a => JsonNode.DeepEquals(a, node)))
        {
            var values = string.Join(", ", allowed.Select(a => a is JsonValue v && JsonUtil.Str(v) is { } s ? JsonSerializer.Serialize(s) : a?.ToJsonString() ?? "null"));
            errors.Add(new FieldError("FieldValueNotSupported", path, $"Unsupported value: {JsonUtil.GoValue(node)}: supported values: {values}"));
        }

        switch (node)
        {
            case JsonValue when actual == "string":
                ValidateString(node.GetValue<string>(), node, schema, path, errors);
                break;
            case JsonValue when actual is "integer" or "number":
                ValidateNumber(node, schema, path, errors);
                break;
            case JsonArray a:
                ValidateArray(a, schema, path, errors);
                break;
            case JsonObject o:
                ValidateObject(o, schema, path, errors);
                break;
        }

        ValidateCombinators(node, schema, path, errors);
    }

    private static bool TypeMatches(string expected, string actual) =>
        expected == actual || (expected == "number" && actual == "integer");

    private static void ValidateString(string s, JsonNode node, JsonObject schema, string path, List<FieldError> errors)
    {
        var length = s.EnumerateRunes().Count();
        if (JsonUtil.Long(schema["maxLength"]) is { } max && length > max)
        {
            errors.Add(new FieldError("FieldValueTooLong", path, $"Too long: may not be more than {max} bytes"));
        }

        if (JsonUtil.Long(schema["minLength"]) is { } min && length < min)
        {
            errors.Add(new FieldError("FieldValueInvalid", path, $"Invalid value: {JsonUtil.GoValue(node)}: {path} in body should be at least {min} chars long"));
        }

        if (JsonUtil.Str(schema["pattern"]) is { } pattern && GetRegex(pattern) is { } regex && !regex.IsMatch(s))
        {
            errors.Add(new FieldError("FieldValueInvalid", path, $"Invalid value: {JsonUtil.GoValue(node)}: {path} in body should match '{pattern}'"));
        }

        if (JsonUtil.Str(schema["format"]) is { } format && !FormatMatches(format, s))
        {
            errors.Add(new FieldError("FieldValueInvalid", path, $"Invalid value: {JsonUtil.GoValue(node)}: {path} in body must be of type {format}: {JsonUtil.GoValue(node)}"));
        }
    }

    private static bool FormatMatches(string format, string s) => format switch
    {
        "date-time" => DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.None, out _),
        "uuid" => Guid.TryParse(s, out _),
        "int32" or "int64" or "byte" or "password" => true,
        _ => true,
    };

    private static Regex? GetRegex(string pattern) => Patterns.GetOrAdd(pattern, p =>
    {
        try
        {
            // Kubernetes patterns are ECMA-262 in name and RE2 in practice; the ECMAScript option
            // keeps \d and \w ASCII-only like both, and plain .NET syntax covers what it rejects.
            return new Regex(p, RegexOptions.ECMAScript | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        }
        catch (ArgumentException)
        {
            try
            {
                return new Regex(p, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
            }
            catch (ArgumentException)
            {
                return null;
            }
        }
    });

    private static void ValidateNumber(JsonNode node, JsonObject schema, string path, List<FieldError> errors)
    {
        var value = JsonUtil.Double(node);
        var exclusiveMin = schema["exclusiveMinimum"]?.GetValueKind() == JsonValueKind.True;
        var exclusiveMax = schema["exclusiveMaximum"]?.GetValueKind() == JsonValueKind.True;
        if (schema["minimum"] is { } minNode)
        {
            var min = JsonUtil.Double(minNode);
            if (exclusiveMin ? value <= min : value < min)
            {
                var op = exclusiveMin ? "greater than" : "greater than or equal to";
                errors.Add(new FieldError("FieldValueInvalid", path, $"Invalid value: {node.ToJsonString()}: {path} in body should be {op} {GoNumber(min)}"));
            }
        }

        if (schema["maximum"] is { } maxNode)
        {
            var max = JsonUtil.Double(maxNode);
            if (exclusiveMax ? value >= max : value > max)
            {
                var op = exclusiveMax ? "less than" : "less than or equal to";
                errors.Add(new FieldError("FieldValueInvalid", path, $"Invalid value: {node.ToJsonString()}: {path} in body should be {op} {GoNumber(max)}"));
            }
        }

        if (schema["multipleOf"] is { } multipleNode && JsonUtil.Double(multipleNode) is var m && m != 0 && Math.Abs(Math.IEEERemainder(value, m)) > 1e-9)
        {
            errors.Add(new FieldError("FieldValueInvalid", path, $"Invalid value: {node.ToJsonString()}: {path} in body should be a multiple of {GoNumber(m)}"));
        }
    }

    /// <summary>Go's %v of a float64: <c>1.0</c> prints as <c>1</c>.</summary>
    private static string GoNumber(double d) => d.ToString(CultureInfo.InvariantCulture);

    private static void ValidateArray(JsonArray a, JsonObject schema, string path, List<FieldError> errors)
    {
        if (JsonUtil.Long(schema["maxItems"]) is { } max && a.Count > max)
        {
            errors.Add(new FieldError("FieldValueTooMany", path, $"Too many: {a.Count}: must have at most {max} items"));
        }

        if (JsonUtil.Long(schema["minItems"]) is { } min && a.Count < min)
        {
            errors.Add(new FieldError("FieldValueInvalid", path, $"Invalid value: {a.Count}: {path} in body should have at least {min} items"));
        }

        if (schema["items"] is JsonObject items)
        {
            for (var i = 0; i < a.Count; i++)
            {
                ValidateNode(a[i], items, $"{path}[{i}]", errors);
            }
        }

        if (JsonUtil.Str(schema["x-kubernetes-list-type"]) == "set")
        {
            var seen = new HashSet<string>();
            for (var i = 0; i < a.Count; i++)
            {
                if (!seen.Add(a[i]?.ToJsonString() ?? "null"))
                {
                    errors.Add(new FieldError("FieldValueDuplicate", $"{path}[{i}]", $"Duplicate value: {JsonUtil.GoValue(a[i])}"));
                }
            }
        }
    }

    private static void ValidateObject(JsonObject o, JsonObject schema, string path, List<FieldError> errors)
    {
        foreach (var req in JsonUtil.StringList(schema["required"]))
        {
            if (!o.ContainsKey(req))
            {
                errors.Add(new FieldError("FieldValueRequired", Child(path, req), "Required value"));
            }
        }

        var props = schema["properties"] as JsonObject;
        foreach (var (key, value) in o)
        {
            if (props?[key] is JsonObject ps)
            {
                ValidateNode(value, ps, Child(path, key), errors);
            }
            else if (schema["additionalProperties"] is JsonObject additional)
            {
                ValidateNode(value, additional, Child(path, key), errors);
            }
        }

        if (JsonUtil.Long(schema["maxProperties"]) is { } max && o.Count > max)
        {
            errors.Add(new FieldError("FieldValueTooMany", path, $"Too many: {o.Count}: must have at most {max} items"));
        }

        if (JsonUtil.Long(schema["minProperties"]) is { } min && o.Count < min)
        {
            errors.Add(new FieldError("FieldValueInvalid", path, $"Invalid value: {o.Count}: {path} in body should have at least {min} properties"));
        }
    }

    private static void ValidateCombinators(JsonNode node, JsonObject schema, string path, List<FieldError> errors)
    {
        foreach (var s in (schema["allOf"] as JsonArray ?? []).OfType<JsonObject>())
        {
            ValidateNode(node, s, path, errors);
        }

        // int-or-string fields carry anyOf [integer, string]; the flag above already checked it.
        if (schema["x-kubernetes-int-or-string"]?.GetValueKind() == JsonValueKind.True)
        {
            return;
        }

        if (schema["anyOf"] is JsonArray anyOf && anyOf.Count > 0 &&
            !anyOf.OfType<JsonObject>().Any(s => Passes(node, s)))
        {
            errors.Add(new FieldError("FieldValueInvalid", path, $"Invalid value: {JsonUtil.GoValue(node)}: {path} in body must validate at least one schema (anyOf)"));
        }

        if (schema["oneOf"] is JsonArray oneOf && oneOf.Count > 0 &&
            oneOf.OfType<JsonObject>().Count(s => Passes(node, s)) != 1)
        {
            errors.Add(new FieldError("FieldValueInvalid", path, $"Invalid value: {JsonUtil.GoValue(node)}: {path} in body must validate one and only one schema (oneOf)"));
        }

        if (schema["not"] is JsonObject not && Passes(node, not))
        {
            errors.Add(new FieldError("FieldValueInvalid", path, $"Invalid value: {JsonUtil.GoValue(node)}: {path} in body should not validate the schema (not)"));
        }
    }

    private static bool Passes(JsonNode node, JsonObject schema)
    {
        var errors = new List<FieldError>();
        ValidateNode(node, schema, "x", errors);
        return errors.Count == 0;
    }
}
