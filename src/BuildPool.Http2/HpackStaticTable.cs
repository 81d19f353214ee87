using System.Collections.Frozen;

namespace BuildPool.Http2;

/// <summary>RFC 7541 Appendix A; index 1 is the first entry.</summary>
internal static class HpackStaticTable
{
    public const int Count = 61;

    private static readonly KeyValuePair<string, string>[] Entries =
    [
        new(":authority", ""),
        new(":method", "GET"),
        new(":method", "POST"),
        new(":path", "/"),
        new(":path", "/index.html"),
        new(":scheme", "http"),
        new(":scheme", "https"),
        new(":status", "200"),
        new(":status", "204"),
        new(":status", "206"),
        new(":status", "304"),
        new(":status", "400"),
        new(":status", "404"),
        new(":status", "500"),
        new("accept-charset", ""),
        new("accept-encoding", "gzip, deflate"),
        new("accept-language", ""),
        new("accept-ranges", ""),
        new("accept", ""),
        new("access-control-allow-origin", ""),
        new("age", ""),
        new("allow", ""),
        new("authorization", ""),
        new("cache-control", ""),
        new("content-disposition", ""),
        new("content-encoding", ""),
        new("content-language", ""),
        new("content-length", ""),
        new("content-location", ""),
        new("content-range", ""),
        new("content-type", ""),
        new("cookie", ""),
        new("date", ""),
        new("etag", ""),
        new("expect", ""),
        new("expires", ""),
        new("from", ""),
        new("host", ""),
        new("if-match", ""),
        new("if-modified-since", ""),
        new("if-none-match", ""),
        new("if-range", ""),
        new("if-unmodified-since", ""),
        new("last-modified", ""),
        new("link", ""),
        new("location", ""),
        new("max-forwards", ""),
        new("proxy-authenticate", ""),
        new("proxy-authorization", ""),
        new("range", ""),
        new("referer", ""),
        new("refresh", ""),
        new("retry-after", ""),
        new("server", ""),
        new("set-cookie", ""),
        new("strict-transport-security", ""),
        new("transfer-encoding", ""),
        new("user-agent", ""),
        new("vary", ""),
        new("via", ""),
        new("www-authenticate", ""),
    ];

    // Case-insensitive so callers can pass names as they came in; HTTP/2 puts them on the wire lower-cased.
    private static readonly FrozenDictionary<string, int> NameIndex = Entries
        .Select((entry, i) => (entry.Key, Index: i + 1))
        .GroupBy(e => e.Key)
        .ToFrozenDictionary(g => g.Key, g => g.First().Index, StringComparer.OrdinalIgnoreCase);

    private static readonly FrozenDictionary<string, int> FieldIndex = Entries
        .Select((entry, i) => (Key: entry.Key + "\0" + entry.Value, Index: i + 1))
        .Where(e => !e.Key.EndsWith('\0'))
        .ToFrozenDictionary(e => e.Key, e => e.Index, StringComparer.Ordinal);

    public static KeyValuePair<string, string> Get(int index) => Entries[index - 1];

    public static int FindName(string name) => NameIndex.GetValueOrDefault(name);

    /// <summary>Index of an exact name+value entry, or 0. Only pseudo-headers have useful ones.</summary>
    public static int FindField(string name, string value)
    {
        if (name.Length == 0 || name[0] != ':')
        {
            return 0;
        }

        return name switch
        {
            ":method" => value switch { "GET" => 2, "POST" => 3, _ => 0 },
            ":path" => value switch { "/" => 4, "/index.html" => 5, _ => 0 },
            ":scheme" => value switch { "http" => 6, "https" => 7, _ => 0 },
            ":status" => FieldIndex.GetValueOrDefault(name + "\0" + value),
            _ => 0,
        };
    }
}
