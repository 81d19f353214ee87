using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace BuildPool.LocalApi.Json;

/// <summary>Small helpers over <see cref="JsonNode"/>, which has no convenient typed accessors.</summary>
internal static class JsonUtil
{
    public static string? Str(JsonNode? node) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    public static long? Long(JsonNode? node) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.Number
            ? v.TryGetValue<long>(out var l) ? l : v.TryGetValue<int>(out var i) ? i : (long)Double(v)
            : null;

    public static double Double(JsonNode node)
    {
        var v = node.AsValue();
        return v.TryGetValue<double>(out var d) ? d
            : v.TryGetValue<long>(out var l) ? l
            : v.TryGetValue<int>(out var i) ? i
            : v.TryGetValue<decimal>(out var m) ? (double)m
            : throw new FormatException($"{node.ToJsonString()} is not a number");
    }

    public static JsonObject Metadata(JsonObject obj)
    {
        if (obj["metadata"] is JsonObject m)
        {
            return m;
        }

        m = [];
        obj["metadata"] = m;
        return m;
    }

    public static string? Name(JsonObject obj) => Str(obj["metadata"]?["name"]);

    public static string? Namespace(JsonObject obj) => Str(obj["metadata"]?["namespace"]);

    public static string? Uid(JsonObject obj) => Str(obj["metadata"]?["uid"]);

    public static string? ResourceVersion(JsonObject obj) => Str(obj["metadata"]?["resourceVersion"]);

    public static IEnumerable<string> StringList(JsonNode? node) =>
        node is JsonArray a ? a.Select(Str).Where(s => s is not null).Select(s => s!) : [];

    public static JsonObject? Labels(JsonObject obj) => obj["metadata"]?["labels"] as JsonObject;

    /// <summary>Replaces (or removes, for null) a property without tripping over parent ownership.</summary>
    public static void Set(JsonObject obj, string key, JsonNode? value)
    {
        obj.Remove(key);
        if (value is not null)
        {
            obj[key] = value.Parent is null ? value : value.DeepClone();
        }
    }

    public static JsonObject Clone(JsonObject obj) => (JsonObject)obj.DeepClone();

    public static string FormatTime(DateTimeOffset t) =>
        t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static DateTimeOffset? ParseTime(string? s) =>
        DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t : null;

    /// <summary>Formats a value the way Go's <c>%#v</c> does in Kubernetes field errors: strings quoted, numbers bare.</summary>
    public static string GoValue(JsonNode? node) => node switch
    {
        null => "null",
        JsonValue v when v.GetValueKind() == JsonValueKind.String => JsonSerializer.Serialize(v.GetValue<string>()),
        _ => node.ToJsonString(),
    };

    public static string TypeName(JsonNode? node) => node switch
    {
        null => "null",
        JsonObject => "object",
        JsonArray => "array",
        _ => node.GetValueKind() switch
        {
            JsonValueKind.String => "string",
            JsonValueKind.Number => IsInteger(node) ? "integer" : "number",
            JsonValueKind.True or JsonValueKind.False => "boolean",
            _ => "null",
        },
    };

    public static bool IsInteger(JsonNode node)
    {
        if (node.GetValueKind() != JsonValueKind.Number)
        {
            return false;
        }

        if (node.AsValue().TryGetValue<long>(out _) || node.AsValue().TryGetValue<int>(out _))
        {
            return true;
        }

        var d = Double(node);
        return Math.Floor(d) == d && !double.IsInfinity(d);
    }

    // Go's encoder escapes only what JSON requires (plus <, >, &), so quotes stay \" as in real responses.
    private static readonly JsonSerializerOptions Wire = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static byte[] ToBytes(JsonNode node) => JsonSerializer.SerializeToUtf8Bytes(node, Wire);
}
