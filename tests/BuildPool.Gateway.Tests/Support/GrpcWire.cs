using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using BuildPool.Http2;

namespace BuildPool.Gateway.Tests.Support;

/// <summary>gRPC length-prefixed messages and small stream helpers for tests.</summary>
internal static class GrpcWire
{
    public static byte[] Frame(ReadOnlySpan<byte> message)
    {
        var framed = new byte[5 + message.Length];
        BinaryPrimitives.WriteUInt32BigEndian(framed.AsSpan(1), (uint)message.Length);
        message.CopyTo(framed.AsSpan(5));
        return framed;
    }

    public static byte[] Frame(string message) => Frame(System.Text.Encoding.UTF8.GetBytes(message));

    /// <summary>Reads one message from a request body; null at the end of the body.</summary>
    public static async Task<byte[]?> ReadMessageAsync(PipeReader reader, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            if (buffer.Length >= 5)
            {
                var prefix = buffer.Slice(0, 5).ToArray();
                var length = (int)BinaryPrimitives.ReadUInt32BigEndian(prefix.AsSpan(1));
                if (buffer.Length >= 5 + length)
                {
                    var message = buffer.Slice(5, length).ToArray();
                    reader.AdvanceTo(buffer.GetPosition(5 + length));
                    return message;
                }
            }

            if (result.IsCompleted)
            {
                reader.AdvanceTo(buffer.End);
                return null;
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    public static async Task<byte[]> ReadExactlyAsync(Http2ClientStream stream, int count)
    {
        var buffer = new byte[count];
        var filled = 0;
        while (filled < count)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(filled));
            if (read == 0)
            {
                throw new EndOfStreamException($"Response ended after {filled} of {count} bytes.");
            }

            filled += read;
        }

        return buffer;
    }

    public static async Task<byte[]> ReadToEndAsync(Http2ClientStream stream)
    {
        var output = new ArrayBufferWriter<byte>();
        while (true)
        {
            var read = await stream.ReadAsync(output.GetMemory(16 * 1024));
            if (read == 0)
            {
                return output.WrittenSpan.ToArray();
            }

            output.Advance(read);
        }
    }

    public static List<KeyValuePair<string, string>> Request(string authority, string path, params (string Name, string Value)[] extra)
    {
        var headers = new List<KeyValuePair<string, string>>
        {
            new(":method", "POST"),
            new(":scheme", "http"),
            new(":authority", authority),
            new(":path", path),
            new("content-type", "application/grpc"),
            new("te", "trailers"),
        };
        headers.AddRange(extra.Select(e => new KeyValuePair<string, string>(e.Name, e.Value)));
        return headers;
    }

    /// <summary>Reads a call's answer to its end: its grpc-status and (unescaped) grpc-message.</summary>
    public static async Task<(string? Status, string Message)> ReadStatusAsync(Http2ClientStream stream, CancellationToken cancellationToken = default)
    {
        var response = await stream.ReadResponseHeadersAsync(cancellationToken);
        if (!stream.IsTrailersOnly)
        {
            await ReadToEndAsync(stream);
            response = await stream.ReadTrailersAsync(cancellationToken);
        }

        return (response.Get("grpc-status"), Uri.UnescapeDataString(response.Get("grpc-message") ?? string.Empty));
    }

    public static string? Get(this IReadOnlyList<KeyValuePair<string, string>> headers, string name) =>
        headers.FirstOrDefault(h => h.Key == name).Value;
}
