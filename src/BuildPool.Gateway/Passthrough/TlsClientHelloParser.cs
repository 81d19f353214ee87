using System.Buffers;
using System.Text;

namespace BuildPool.Gateway.Passthrough;

/// <summary>
/// Reads the server name (SNI, RFC 6066 section 3) from the first bytes of a TLS connection
/// without terminating TLS: TLS records (RFC 8446 section 5.1) of type handshake carry one
/// ClientHello (section 4.1.2), which a client may split over several records. Everything is
/// bounds-checked against the declared lengths; anything that is not a well-formed ClientHello
/// throws <see cref="TlsClientHelloException"/> and nothing else.
/// </summary>
public static class TlsClientHelloParser
{
    /// <summary>Largest ClientHello accepted by default: real ones (post-quantum key shares, tickets) stay far below.</summary>
    public const int DefaultMaxHelloBytes = 16 * 1024;

    private const byte RecordHandshake = 22;
    private const byte HandshakeClientHello = 1;
    private const int RecordHeaderLength = 5;
    private const int MaxRecordLength = 1 << 14;
    private const ushort ExtensionServerName = 0;
    private const byte NameTypeHostName = 0;
    private const int MaxHostNameLength = 255;

    /// <summary>
    /// Parses the ClientHello at the start of <paramref name="data"/> (the bytes read from the
    /// connection so far). Returns false when more bytes are needed; true with the hello when it
    /// is complete. Throws <see cref="TlsClientHelloException"/> for anything malformed, or
    /// when the hello would exceed <paramref name="maxHelloBytes"/>.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> data, out TlsClientHello hello, int maxHelloBytes = DefaultMaxHelloBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxHelloBytes, RecordHeaderLength + 4);
        hello = default;
        if (data.IsEmpty)
        {
            return false;
        }

        // The first byte alone tells a TLS connection from plain HTTP/2 or SSLv2 (0x80...):
        // refuse those at once instead of waiting for bytes that never form a record.
        if (data[0] != RecordHandshake)
        {
            throw Malformed($"not a TLS handshake record (first byte 0x{data[0]:x2})");
        }

        // The handshake message may span records: gather the fragments of the complete records.
        var rented = ArrayPool<byte>.Shared.Rent(Math.Min(data.Length, maxHelloBytes));
        try
        {
            var gathered = 0;
            var position = 0;
            while (true)
            {
                if (data.Length - position < RecordHeaderLength)
                {
                    return NeedMore(position + RecordHeaderLength, maxHelloBytes);
                }

                var header = data.Slice(position, RecordHeaderLength);
                if (header[0] != RecordHandshake)
                {
                    throw Malformed($"record of type {header[0]} inside the ClientHello");
                }

                if (header[1] != 3)
                {
                    throw Malformed($"record version {header[1]}.{header[2]} is not TLS");
                }

                var length = (header[3] << 8) | header[4];
                if (length == 0 || length > MaxRecordLength)
                {
                    throw Malformed($"handshake record of {length} bytes");
                }

                var recordEnd = position + RecordHeaderLength + length;
                if (recordEnd > maxHelloBytes)
                {
                    throw Malformed($"ClientHello larger than {maxHelloBytes} bytes");
                }

                if (data.Length < recordEnd)
                {
                    return false;
                }

                data.Slice(position + RecordHeaderLength, length).CopyTo(rented.AsSpan(gathered));
                gathered += length;
                position = recordEnd;
                var handshake = rented.AsSpan(0, gathered);
                if (handshake.Length < 4)
                {
                    continue;
                }

                if (handshake[0] != HandshakeClientHello)
                {
                    throw Malformed($"first handshake message is type {handshake[0]}, not ClientHello");
                }

                var bodyLength = (handshake[1] << 16) | (handshake[2] << 8) | handshake[3];
                if (bodyLength + 4 > maxHelloBytes)
                {
                    throw Malformed($"ClientHello of {bodyLength} bytes exceeds {maxHelloBytes}");
                }

                if (handshake.Length < 4 + bodyLength)
                {
                    continue;
                }

                hello = new TlsClientHello(ReadServerName(handshake.Slice(4, bodyLength)), position);
                return true;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static bool NeedMore(int wanted, int maxHelloBytes) =>
        wanted <= maxHelloBytes ? false : throw Malformed($"ClientHello larger than {maxHelloBytes} bytes");

    // struct { ProtocolVersion legacy_version; Random random; opaque legacy_session_id<0..32>;
    //   CipherSuite cipher_suites<2..2^16-2>; opaque legacy_compression_methods<1..2^8-1>;
    //   Extension extensions<8..2^16-1>; } ClientHello;  (extensions absent in old clients)
    private static string? ReadServerName(ReadOnlySpan<byte> body)
    {
        var reader = new Reader(body);
        var version = reader.Bytes(2);
        if (version[0] != 3)
        {
            throw Malformed($"ClientHello version {version[0]}.{version[1]} is not TLS");
        }

        reader.Skip(32);
        if (reader.Vector8().Length > 32)
        {
            throw Malformed("session id longer than 32 bytes");
        }

        var suites = reader.Vector16();
        if (suites.Length < 2 || suites.Length % 2 != 0)
        {
            throw Malformed("cipher suite list of odd or zero length");
        }

        if (reader.Vector8().IsEmpty)
        {
            throw Malformed("no compression methods");
        }

        if (reader.IsEmpty)
        {
            return null;
        }

        var extensions = new Reader(reader.Vector16());
        if (!reader.IsEmpty)
        {
            throw Malformed("bytes after the extensions");
        }

        string? serverName = null;
        var seenServerName = false;
        while (!extensions.IsEmpty)
        {
            var type = extensions.UInt16();
            var data = extensions.Vector16();
            if (type != ExtensionServerName)
            {
                continue;
            }

            if (seenServerName)
            {
                throw Malformed("two server_name extensions");
            }

            seenServerName = true;
            serverName = ReadHostName(data);
        }

        return serverName;
    }

    // struct { NameType name_type; opaque HostName<1..2^16-1>; } ServerName;
    // struct { ServerName server_name_list<1..2^16-1> } ServerNameList;
    private static string? ReadHostName(ReadOnlySpan<byte> extension)
    {
        var outer = new Reader(extension);
        var list = new Reader(outer.Vector16());
        if (!outer.IsEmpty)
        {
            throw Malformed("bytes after the server name list");
        }

        if (list.IsEmpty)
        {
            throw Malformed("empty server name list");
        }

        string? hostName = null;
        while (!list.IsEmpty)
        {
            var nameType = list.Bytes(1)[0];
            var name = list.Vector16();
            if (nameType != NameTypeHostName)
            {
                // Other name types are undefined; their entries have the same shape, so skip them.
                continue;
            }

            if (hostName is not null)
            {
                throw Malformed("two host names in server_name");
            }

            hostName = ValidHostName(name);
        }

        return hostName;
    }

    private static string ValidHostName(ReadOnlySpan<byte> name)
    {
        if (name.IsEmpty || name.Length > MaxHostNameLength)
        {
            throw Malformed($"host name of {name.Length} bytes");
        }

        foreach (var b in name)
        {
            // DNS host names in ASCII (IDNs arrive as punycode); anything else cannot be a key.
            if (!(b is >= (byte)'a' and <= (byte)'z' or >= (byte)'A' and <= (byte)'Z' or >= (byte)'0' and <= (byte)'9' or (byte)'-' or (byte)'.' or (byte)'_'))
            {
                throw Malformed($"host name byte 0x{b:x2}");
            }
        }

        return Encoding.ASCII.GetString(name).ToLowerInvariant();
    }

    private static TlsClientHelloException Malformed(string what) => new($"Malformed TLS ClientHello: {what}.");

    private ref struct Reader(ReadOnlySpan<byte> data)
    {
        private ReadOnlySpan<byte> _rest = data;

        public readonly bool IsEmpty => _rest.IsEmpty;

        public ReadOnlySpan<byte> Bytes(int count)
        {
            if (_rest.Length < count)
            {
                throw Malformed($"field of {count} bytes runs past its enclosing length");
            }

            var value = _rest[..count];
            _rest = _rest[count..];
            return value;
        }

        public void Skip(int count) => Bytes(count);

        public int UInt16()
        {
            var value = Bytes(2);
            return (value[0] << 8) | value[1];
        }

        public ReadOnlySpan<byte> Vector8() => Bytes(Bytes(1)[0]);

        public ReadOnlySpan<byte> Vector16() => Bytes(UInt16());
    }
}
