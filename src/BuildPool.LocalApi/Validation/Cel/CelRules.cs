using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using BuildPool.LocalApi.Http;
using BuildPool.LocalApi.Json;

namespace BuildPool.LocalApi.Validation.Cel;

/// <summary>
/// The <c>x-kubernetes-validations</c> rules of a structural schema, checked the way
/// kube-apiserver (1.25 and later) checks them: after defaulting, at every node that carries
/// rules, with <c>self</c> the node's value; a rule reading <c>oldSelf</c> (a transition rule)
/// only on an update whose old object has the node. A false rule is "Invalid value" at the
/// node's path with the rule's message; one that fails to evaluate names the error and the rule.
/// </summary>
internal static class CelRules
{
    private static readonly ConcurrentDictionary<string, CelNode> Parsed = new(StringComparer.Ordinal);

    /// <summary>The errors of <paramref name="obj"/>; <paramref name="old"/> is the stored object on an update, null on a create.</summary>
    public static List<FieldError> Validate(JsonObject obj, JsonObject? old, JsonObject schema)
    {
        ArgumentNullException.ThrowIfNull(obj);
        ArgumentNullException.ThrowIfNull(schema);
        var errors = new List<FieldError>();
        if (schema["properties"] is JsonObject properties)
        {
            foreach (var (key, child) in properties)
            {
                if (key is not ("metadata" or "apiVersion" or "kind") && child is JsonObject childSchema && obj.TryGetPropertyValue(key, out var value))
                {
                    Walk(value, old is not null && old.TryGetPropertyValue(key, out var was) ? was : null, old?.ContainsKey(key) == true, childSchema, key, errors);
                }
            }
        }

        return errors;
    }

    /// <summary>
    /// Rules under <paramref name="schema"/> that do not compile, as kube-apiserver refuses them
    /// when the CRD is written (a rule outside the emulator's subset counts as not compiling).
    /// </summary>
    public static IEnumerable<FieldError> CompileErrors(JsonNode? schema, string path)
    {
        switch (schema)
        {
            case JsonObject o:
                if (o["x-kubernetes-validations"] is JsonArray rules)
                {
                    for (var i = 0; i < rules.Count; i++)
                    {
                        var text = JsonUtil.Str(rules[i]?["rule"]) ?? "";
                        string? error = null;
                        try
                        {
                            Parse(text);
                        }
                        catch (CelException ex)
                        {
                            error = ex.Message;
                        }

                        if (error is not null)
                        {
                            yield return new FieldError("FieldValueInvalid", $"{path}.x-kubernetes-validations[{i}].rule", $"Invalid value: \"{text}\": compilation failed: {error}");
                        }
                    }
                }

                foreach (var (key, child) in o.Where(kv => kv.Key != "x-kubernetes-validations"))
                {
                    foreach (var error in CompileErrors(child, path.Length == 0 ? key : $"{path}.{key}"))
                    {
                        yield return error;
                    }
                }

                break;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++)
                {
                    foreach (var error in CompileErrors(a[i], $"{path}[{i}]"))
                    {
                        yield return error;
                    }
                }

                break;
        }
    }

    /// <summary>The parsed rule; <see cref="CelException"/> when the emulator cannot read it.</summary>
    public static CelNode Parse(string rule) => Parsed.GetOrAdd(rule, CelParser.Parse);

    private static void Walk(JsonNode? node, JsonNode? old, bool hasOld, JsonObject schema, string path, List<FieldError> errors)
    {
        if (node is null)
        {
            return;
        }

        if (schema["x-kubernetes-validations"] is JsonArray rules)
        {
            foreach (var rule in rules.OfType<JsonObject>())
            {
                Check(rule, node, old, hasOld, schema, path, errors);
            }
        }

        switch (node)
        {
            case JsonObject o:
                foreach (var (key, value) in o)
                {
                    var child = schema["properties"]?[key] as JsonObject ?? schema["additionalProperties"] as JsonObject;
                    if (child is not null)
                    {
                        var oldMap = old as JsonObject;
                        Walk(value, oldMap?[key], oldMap?.ContainsKey(key) == true, child, $"{path}.{key}", errors);
                    }
                }

                break;
            case JsonArray a when schema["items"] is JsonObject items:
                // Items of atomic lists have no old value to compare with (kube-apiserver pairs
                // only map and set list items); the project's rules need none.
                for (var i = 0; i < a.Count; i++)
                {
                    Walk(a[i], null, false, items, $"{path}[{i}]", errors);
                }

                break;
        }
    }

    private static void Check(JsonObject rule, JsonNode node, JsonNode? old, bool hasOld, JsonObject schema, string path, List<FieldError> errors)
    {
        var text = JsonUtil.Str(rule["rule"]) ?? "";
        var message = JsonUtil.Str(rule["message"]) is { Length: > 0 } m ? m : $"failed rule: {text}";
        var type = JsonUtil.Str(schema["type"]) ?? "object";
        try
        {
            var expression = Parse(text);
            var transition = expression.ReadsOldSelf();
            if (transition && !hasOld)
            {
                return;
            }

            var variables = new Dictionary<string, object?>(StringComparer.Ordinal) { ["self"] = CelEvaluator.FromJson(node) };
            if (transition)
            {
                variables["oldSelf"] = CelEvaluator.FromJson(old);
            }

            switch (CelEvaluator.Evaluate(expression, variables))
            {
                case true:
                    return;
                case false:
                    errors.Add(new FieldError("FieldValueInvalid", path, $"Invalid value: \"{type}\": {message}"));
                    return;
                case var other:
                    errors.Add(new FieldError("FieldValueInvalid", path, $"Invalid value: \"{type}\": rule returned {other ?? "null"}, not a bool, evaluating rule: {text}"));
                    return;
            }
        }
        catch (CelException ex)
        {
            errors.Add(new FieldError("FieldValueInvalid", path, $"Invalid value: \"{type}\": {ex.Message} evaluating rule: {text}"));
        }
    }
}
