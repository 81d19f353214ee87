using System.Text;

namespace BuildPool.TestDoubles;

/// <summary>A hand-rolled protobuf encoder for building Solve requests in tests (no Google.Protobuf here).</summary>
public sealed class ProtoWriter
{
    private readonly List<byte> _bytes = [];

    public ProtoWriter Varint(int field, ulong value)
    {
        Tag(field, 0);
        WriteVarint(value);
        return this;
    }

    public ProtoWriter Fixed32(int field, uint value)
    {
        Tag(field, 5);
        _bytes.AddRange(BitConverter.GetBytes(value));
        return this;
    }

    public ProtoWriter Fixed64(int field, ulong value)
    {
        Tag(field, 1);
        _bytes.AddRange(BitConverter.GetBytes(value));
        return this;
    }

    public ProtoWriter Bytes(int field, byte[] value)
    {
        Tag(field, 2);
        WriteVarint((ulong)value.Length);
        _bytes.AddRange(value);
        return this;
    }

    public ProtoWriter String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    public ProtoWriter Message(int field, ProtoWriter message) => Bytes(field, message.ToArray());

    public ProtoWriter MapEntry(int field, string key, string value) =>
        Message(field, new ProtoWriter().String(1, key).String(2, value));

    public ProtoWriter Group(int field, ProtoWriter body)
    {
        Tag(field, 3);
        _bytes.AddRange(body.ToArray());
        Tag(field, 4);
        return this;
    }

    /// <summary>An ExporterEntry / CacheOptionsEntry: {1 Type, 2 Attrs map}.</summary>
    public static ProtoWriter Entry(string type, params (string Key, string Value)[] attrs)
    {
        var entry = new ProtoWriter().String(1, type);
        foreach (var (key, value) in attrs)
        {
            entry.MapEntry(2, key, value);
        }

        return entry;
    }

    public byte[] ToArray() => [.. _bytes];

    private void Tag(int field, int wireType) => WriteVarint(((ulong)field << 3) | (uint)wireType);

    private void WriteVarint(ulong value)
    {
        while (value >= 0x80)
        {
            _bytes.Add((byte)(value | 0x80));
            value >>= 7;
        }

        _bytes.Add((byte)value);
    }
}
