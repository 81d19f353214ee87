using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace BuildPool.LocalApi.Validation.Cel;

/// <summary>
/// Evaluates a <see cref="CelNode"/> over JSON values the way CEL does for CRD rules: integers are
/// 64-bit and overflow is an error, a missing field is "no such key", operands of the wrong type
/// are "no such overload", and <c>&amp;&amp;</c>/<c>||</c> (and the macros) absorb an error when
/// the other side already decides the result.
/// </summary>
internal static class CelEvaluator
{
    /// <summary>The value of <paramref name="node"/>; <paramref name="variables"/> holds <c>self</c>, <c>oldSelf</c> and macro variables.</summary>
    public static object? Evaluate(CelNode node, IReadOnlyDictionary<string, object?> variables)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(variables);
        switch (node)
        {
            case CelNode.Literal l:
                return l.Value;
            case CelNode.Identifier i:
                return variables.TryGetValue(i.Name, out var value) ? value : throw new CelException($"undeclared reference to '{i.Name}'");
            case CelNode.Select s:
                return Select(Evaluate(s.Operand, variables), s.Field, s.Test);
            case CelNode.Index x:
                return Index(Evaluate(x.Operand, variables), Evaluate(x.Key, variables));
            case CelNode.List list:
                return list.Items.Select(item => Evaluate(item, variables)).ToList();
            case CelNode.Call c:
                return Call(c.Name, c.Target is null ? null : Evaluate(c.Target, variables), [.. c.Arguments.Select(a => Evaluate(a, variables))], c.Target is not null);
            case CelNode.Unary { Operator: "!" } u:
                return Evaluate(u.Operand, variables) switch
                {
                    bool negated => !negated,
                    var other => throw NoOverload("!_", other),
                };
            case CelNode.Unary u:
                return Evaluate(u.Operand, variables) switch
                {
                    long n => checked(-n),
                    double d => -d,
                    var other => throw NoOverload("-_", other),
                };
            case CelNode.Binary { Operator: "&&" or "||" } logical:
                return Logical(logical, variables);
            case CelNode.Binary binary:
                return Binary(binary.Operator, Evaluate(binary.Left, variables), Evaluate(binary.Right, variables));
            case CelNode.Conditional c:
                return Evaluate(c.Condition, variables) switch
                {
                    bool condition => Evaluate(condition ? c.Then : c.Else, variables),
                    var other => throw NoOverload("_?_:_", other),
                };
            case CelNode.Comprehension c:
                return Comprehension(c, variables);
            default:
                throw new CelException($"unsupported expression {node.GetType().Name}");
        }
    }

    /// <summary>A JSON value as CEL sees it: string, long, double, bool, null, or the JSON list or map itself.</summary>
    public static object? FromJson(JsonNode? node) => node switch
    {
        null => null,
        // object, not JsonNode: JsonNode's implicit conversions would turn the scalars below back into JsonValues.
        JsonObject or JsonArray => (object)node,
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => v.GetValue<string>(),
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.Number when v.TryGetValue<long>(out var l) => l,
            JsonValueKind.Number when long.TryParse(v.ToJsonString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) => parsed,
            JsonValueKind.Number => double.Parse(v.ToJsonString(), CultureInfo.InvariantCulture),
            _ => null,
        },
        _ => null,
    };

    private static object? Select(object? operand, string field, bool test)
    {
        if (operand is not JsonObject map)
        {
            throw new CelException(operand is null ? $"no such key: {field}" : $"type '{TypeName(operand)}' does not support field selection");
        }

        if (!map.TryGetPropertyValue(field, out var value))
        {
            return test ? false : throw new CelException($"no such key: {field}");
        }

        return test ? true : FromJson(value);
    }

    private static object? Index(object? operand, object? key)
    {
        switch (operand, key)
        {
            case (JsonObject map, string name):
                return map.TryGetPropertyValue(name, out var value) ? FromJson(value) : throw new CelException($"no such key: {name}");
            case (_, long i) when Items(operand) is { } items:
                return i >= 0 && i < items.Count ? items[(int)i] : throw new CelException($"index out of bounds: {i}");
            default:
                throw NoOverload("_[_]", operand, key);
        }
    }

    private static object? Call(string name, object? target, object?[] args, bool method)
    {
        switch (name, method, target, args)
        {
            case ("size", false, _, [var x]):
                return Size(x);
            case ("size", true, var x, []):
                return Size(x);
            case ("contains", true, string s, [string part]):
                return s.Contains(part, StringComparison.Ordinal);
            case ("startsWith", true, string s, [string prefix]):
                return s.StartsWith(prefix, StringComparison.Ordinal);
            case ("endsWith", true, string s, [string suffix]):
                return s.EndsWith(suffix, StringComparison.Ordinal);
            case ("matches", true, string s, [string pattern]):
                // RE2 and .NET agree on the patterns rules use; RE2 has no backtracking, so neither may this.
                return Regex.IsMatch(s, pattern, RegexOptions.NonBacktracking, TimeSpan.FromSeconds(1));
            default:
                throw NoOverload(method ? $"{TypeName(target)}.{name}" : name, args);
        }
    }

    private static long Size(object? value) => value switch
    {
        string s => s.EnumerateRunes().LongCount(),
        JsonObject map => map.Count,
        _ when Items(value) is { } items => items.Count,
        _ => throw NoOverload("size", value),
    };

    private static object Logical(CelNode.Binary node, IReadOnlyDictionary<string, object?> variables)
    {
        var decisive = node.Operator == "||";
        CelException? error = null;
        foreach (var side in new[] { node.Left, node.Right })
        {
            try
            {
                switch (Evaluate(side, variables))
                {
                    case bool b when b == decisive:
                        return decisive;
                    case bool:
                        break;
                    case var other:
                        error ??= NoOverload($"_{node.Operator}_", other);
                        break;
                }
            }
            catch (CelException ex)
            {
                error ??= ex;
            }
        }

        return error is null ? !decisive : throw error;
    }

    private static object Comprehension(CelNode.Comprehension c, IReadOnlyDictionary<string, object?> variables)
    {
        var range = Evaluate(c.Range, variables);
        IEnumerable<object?> elements = range switch
        {
            JsonObject map => map.Select(kv => (object?)kv.Key),
            _ when Items(range) is { } items => items,
            _ => throw NoOverload(c.Macro, range),
        };
        var scope = new Dictionary<string, object?>(variables) { [c.Variable] = null };
        var trues = 0;
        CelException? error = null;
        foreach (var element in elements)
        {
            scope[c.Variable] = element;
            object? result;
            try
            {
                result = Evaluate(c.Predicate, scope);
            }
            catch (CelException ex)
            {
                error ??= ex;
                continue;
            }

            switch (result, c.Macro)
            {
                case (false, "all"):
                    return false;
                case (true, "exists"):
                    return true;
                case (true, _):
                    trues++;
                    break;
                case (bool, _):
                    break;
                default:
                    error ??= NoOverload(c.Macro, result);
                    break;
            }
        }

        return error is not null ? throw error : c.Macro switch
        {
            "all" => true,
            "exists" => false,
            _ => trues == 1,
        };
    }

    private static object Binary(string op, object? left, object? right) => op switch
    {
        "==" => Equal(left, right),
        "!=" => !Equal(left, right),
        "in" => right switch
        {
            JsonObject map when left is string key => map.ContainsKey(key),
            _ when Items(right) is { } items => items.Any(item => Equal(left, item)),
            _ => throw NoOverload("@in", left, right),
        },
        "<" => Compare(left, right, op) < 0,
        "<=" => Compare(left, right, op) <= 0,
        ">" => Compare(left, right, op) > 0,
        ">=" => Compare(left, right, op) >= 0,
        _ => Arithmetic(op, left, right),
    };

    private static object Arithmetic(string op, object? left, object? right)
    {
        try
        {
            return (op, left, right) switch
            {
                ("+", long a, long b) => checked(a + b),
                ("-", long a, long b) => checked(a - b),
                ("*", long a, long b) => checked(a * b),
                ("/", long _, 0L) or ("%", long _, 0L) => throw new CelException(op == "/" ? "division by zero" : "modulus by zero"),
                ("/", long a, long b) => a / b,
                ("%", long a, long b) => a % b,
                ("+", double a, double b) => a + b,
                ("-", double a, double b) => a - b,
                ("*", double a, double b) => a * b,
                ("/", double a, double b) => a / b,
                ("+", string a, string b) => a + b,
                ("+", _, _) when Items(left) is { } a && Items(right) is { } b => a.Concat(b).ToList(),
                _ => throw NoOverload($"_{op}_", left, right),
            };
        }
        catch (OverflowException)
        {
            throw new CelException("return error overflow");
        }
    }

    private static int Compare(object? left, object? right, string op) => (left, right) switch
    {
        (long a, long b) => a.CompareTo(b),
        (long or double, long or double) => Convert.ToDouble(left, CultureInfo.InvariantCulture).CompareTo(Convert.ToDouble(right, CultureInfo.InvariantCulture)),
        (string a, string b) => string.CompareOrdinal(a, b),
        (bool a, bool b) => a.CompareTo(b),
        _ => throw NoOverload($"_{op}_", left, right),
    };

    private static bool Equal(object? left, object? right) => (left, right) switch
    {
        (null, null) => true,
        (null, _) or (_, null) => false,
        (long a, long b) => a == b,
        (long or double, long or double) => Convert.ToDouble(left, CultureInfo.InvariantCulture) == Convert.ToDouble(right, CultureInfo.InvariantCulture),
        (string a, string b) => a == b,
        (bool a, bool b) => a == b,
        (JsonObject a, JsonObject b) => JsonNode.DeepEquals(a, b),
        _ when Items(left) is { } a && Items(right) is { } b => a.Count == b.Count && a.Zip(b).All(p => Equal(p.First, p.Second)),
        _ => false,
    };

    private static List<object?>? Items(object? value) => value switch
    {
        JsonArray array => [.. array.Select(FromJson)],
        List<object?> list => list,
        _ => null,
    };

    private static string TypeName(object? value) => value switch
    {
        null => "null_type",
        string => "string",
        long => "int",
        double => "double",
        bool => "bool",
        JsonObject => "map",
        _ when Items(value) is not null => "list",
        _ => value.GetType().Name,
    };

    private static CelException NoOverload(string function, params object?[] args) =>
        new($"no such overload: {function}({string.Join(", ", args.Select(TypeName))})");
}
