using System.Text;
using System.Text.Json.Nodes;

namespace BuildPool.LocalApi.Protobuf;

/// <summary>
/// Decodes the few protobuf bodies kubectl's imperative commands send (<c>kubectl create
/// namespace|configmap|secret|serviceaccount</c> use the protobuf-speaking typed client and do
/// not fall back to JSON). Field numbers come from k8s.io/api's generated.proto. Anything else
/// stays a 415, which is also what kubectl would get from a server without protobuf support.
/// </summary>
internal static class ProtobufObjects
{
    private static readonly byte[] Magic = "k8s\0"u8.ToArray();

    public static JsonObject? TryDecode(byte[] body)
    {
        if (body.Length < Magic.Length || !body.AsSpan(0, Magic.Length).SequenceEqual(Magic))
        {
            return null;
        }

        string? apiVersion = null;
        string? kind = null;
        ReadOnlyMemory<byte> raw = default;
        foreach (var (field, value) in Fields(body.AsMemory(Magic.Length)))
        {
            switch (field)
            {
                case 1:
                    foreach (var (f, v) in Fields(value))
                    {
                        if (f == 1)
                        {
                            apiVersion = Text(v);
                        }
                        else if (f == 2)
                        {
                            kind = Text(v);
                        }
                    }

                    break;
                case 2:
                    raw = value;
                    break;
            }
        }

        var obj = new JsonObject { ["apiVersion"] = apiVersion, ["kind"] = kind };
        foreach (var (field, value) in Fields(raw))
        {
            switch ((kind, field))
            {
                case (_, 1):
                    obj["metadata"] = Metadata(value);
                    break;
                case ("Namespace", 2):
                    obj["spec"] = new JsonObject { ["finalizers"] = new JsonArray(Fields(value).Where(f => f.Field == 1).Select(f => (JsonNode?)Text(f.Value)).ToArray()) };
                    break;
                case ("ConfigMap", 2) or ("Secret", 4):
                    AddEntry(obj, kind == "Secret" ? "stringData" : "data", value, base64: false);
                    break;
                case ("ConfigMap", 3) or ("Secret", 2):
                    AddEntry(obj, kind == "Secret" ? "data" : "binaryData", value, base64: true);
                    break;
                case ("Secret", 3):
                    obj["type"] = Text(value);
                    break;
                case ("Namespace" or "ServiceAccount", _):
                    break;
                default:
                    return null;
            }
        }

        return kind is "Namespace" or "ConfigMap" or "Secret" or "ServiceAccount" ? obj : null;
    }

    private static JsonObject Metadata(ReadOnlyMemory<byte> data)
    {
        var meta = new JsonObject();
        foreach (var (field, value) in Fields(data))
        {
            switch (field)
            {
                case 1:
                    meta["name"] = Text(value);
                    break;
                case 2:
                    meta["generateName"] = Text(value);
                    break;
                case 3:
                    meta["namespace"] = Text(value);
                    break;
                case 11:
                    AddEntry(meta, "labels", value, base64: false);
                    break;
                case 12:
                    AddEntry(meta, "annotations", value, base64: false);
                    break;
                case 14:
                    if (meta["finalizers"] is not JsonArray finalizers)
                    {
                        finalizers = [];
                        meta["finalizers"] = finalizers;
                    }

                    finalizers.Add(Text(value));
                    break;
            }
        }

        return meta;
    }

    /// <summary>Protobuf maps are repeated {1: key, 2: value} entries.</summary>
    private static void AddEntry(JsonObject parent, string property, ReadOnlyMemory<byte> entry, bool base64)
    {
        if (parent[property] is not JsonObject map)
        {
            map = [];
            parent[property] = map;
        }

        string? key = null;
        ReadOnlyMemory<byte> value = default;
        foreach (var (f, v) in Fields(entry))
        {
            if (f == 1)
            {
                key = Text(v);
            }
            else if (f == 2)
            {
                value = v;
            }
        }

        if (key is not null)
        {
            map[key] = base64 ? Convert.ToBase64String(value.Span) : Text(value);
        }
    }

    private static string Text(ReadOnlyMemory<byte> data) => Encoding.UTF8.GetString(data.Span);

    /// <summary>Length-delimited fields only (wire type 2); varints are skipped, which drops only booleans we do not need.</summary>
    private static List<(int Field, ReadOnlyMemory<byte> Value)> Fields(ReadOnlyMemory<byte> data)
    {
        var result = new List<(int, ReadOnlyMemory<byte>)>();
        var span = data.Span;
        var i = 0;
        while (i < span.Length)
        {
            var tag = Varint(span, ref i);
            var wire = (int)(tag & 7);
            var field = (int)(tag >> 3);
            switch (wire)
            {
                case 0:
                    Varint(span, ref i);
                    break;
                case 1:
                    i += 8;
                    break;
                case 2:
                    var length = (int)Varint(span, ref i);
                    result.Add((field, data.Slice(i, length)));
                    i += length;
                    break;
                case 5:
                    i += 4;
                    break;
                default:
                    throw new FormatException($"unsupported protobuf wire type {wire}");
            }
        }

        return result;
    }

    private static ulong Varint(ReadOnlySpan<byte> span, ref int i)
    {
        ulong result = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            var b = span[i++];
            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                break;
            }
        }

        return result;
    }
}
