using System.Text.Json.Nodes;
using System.Threading.Channels;
using BuildPool.LocalApi.Discovery;
using BuildPool.LocalApi.Json;
using BuildPool.LocalApi.Selectors;
using BuildPool.LocalApi.Tables;

namespace BuildPool.LocalApi.Storage;

/// <summary>
/// One open watch. Events are filtered and serialized by the store while it holds its lock, so
/// the order on the wire is the commit order and no JSON node is ever shared across threads;
/// the HTTP side only copies finished lines to the socket.
/// </summary>
internal sealed class Watcher
{
    private readonly Channel<byte[]> _lines = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true });

    public required ResourceType Type { get; init; }

    public string? Namespace { get; init; }

    public LabelSelector Labels { get; init; } = LabelSelector.Everything;

    public FieldSelector Fields { get; init; } = FieldSelector.Everything;

    public bool AsTable { get; init; }

    public string IncludeObject { get; init; } = "Object";

    public required Func<DateTimeOffset> Now { get; init; }

    public ChannelReader<byte[]> Lines => _lines.Reader;

    public bool Matches(JsonObject obj) =>
        (Namespace is null || JsonUtil.Namespace(obj) == Namespace) && Labels.Matches(obj) && Fields.Matches(obj);

    public void Offer(StoredEvent e)
    {
        if (e.StorageKey != Type.StorageKey)
        {
            return;
        }

        var now = Matches(e.Object);
        var before = e.Previous is not null && Matches(e.Previous);
        var type = e.Type switch
        {
            "ADDED" => now ? "ADDED" : null,
            "DELETED" => now ? "DELETED" : null,
            _ when now && before => "MODIFIED",
            _ when now => "ADDED",
            _ when before => "DELETED",
            _ => null,
        };
        if (type is not null)
        {
            Send(type, e.Object);
        }
    }

    public void Send(string type, JsonObject obj)
    {
        var copy = JsonUtil.Clone(obj);
        copy["apiVersion"] = Type.GroupVersion;
        copy["kind"] = Type.Kind;
        JsonNode payload = AsTable
            ? TableRenderer.Render(Type, [copy], JsonUtil.ResourceVersion(copy) ?? "", null, IncludeObject, Now())
            : copy;
        Write(new JsonObject { ["type"] = type, ["object"] = payload });
    }

    public void Bookmark(long resourceVersion) =>
        Write(new JsonObject
        {
            ["type"] = "BOOKMARK",
            ["object"] = new JsonObject
            {
                ["kind"] = Type.Kind,
                ["apiVersion"] = Type.GroupVersion,
                ["metadata"] = new JsonObject { ["resourceVersion"] = resourceVersion.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            },
        });

    public void Fail(JsonObject status)
    {
        Write(new JsonObject { ["type"] = "ERROR", ["object"] = status });
        Close();
    }

    public void Close() => _lines.Writer.TryComplete();

    private void Write(JsonObject evt)
    {
        var bytes = JsonUtil.ToBytes(evt);
        var line = new byte[bytes.Length + 1];
        bytes.CopyTo(line, 0);
        line[^1] = (byte)'\n';
        _lines.Writer.TryWrite(line);
    }
}
