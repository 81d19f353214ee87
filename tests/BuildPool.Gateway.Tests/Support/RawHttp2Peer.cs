using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using BuildPool.Http2;

namespace BuildPool.Gateway.Tests.Support;

/// <summary>
/// A scripted HTTP/2 server for the frame-level cases Kestrel will not produce on demand
/// (PUSH_PROMISE, GOAWAY with a chosen last-stream-id, tiny windows, split header blocks).
/// </summary>
internal sealed class RawHttp2Peer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly HpackEncoder _encoder = new(useHuffman: false);
    private Socket? _socket;
    private NetworkStream? _stream;
    private Http2FrameReader? _reader;

    public RawHttp2Peer() => _listener.Start();

    public DnsEndPoint EndPoint => new("127.0.0.1", ((IPEndPoint)_listener.LocalEndpoint).Port);

    public HpackDecoder Decoder { get; } = new();

    /// <summary>Connects a client and accepts it; the returned connection completes its handshake once <see cref="HandshakeAsync"/> ran.</summary>
    public async Task<Http2ClientConnection> ConnectClientAsync(Http2ClientConnectionOptions? options = null, params (Http2SettingId, uint)[] settings)
    {
        var accept = _listener.AcceptSocketAsync();
        var transport = await Http2Connector.ConnectAsync(EndPoint, null, CancellationToken.None);
        _socket = await accept;
        _stream = new NetworkStream(_socket, ownsSocket: true);
        _reader = new Http2FrameReader(PipeReader.Create(_stream)) { MaxFrameSize = 1 << 20 };
        var connecting = Http2ClientConnection.ConnectAsync(transport, options);
        await HandshakeAsync(settings);
        return await connecting.Within();
    }

    private async Task HandshakeAsync((Http2SettingId, uint)[] settings)
    {
        var preface = new byte[24];
        await _stream!.ReadExactlyAsync(preface);
        Assert.Equal(Http2FrameWriter.ClientPreface.ToArray(), preface);
        await SendAsync(w => Http2FrameWriter.WriteSettings(w, settings));
    }

    public async Task SendAsync(Action<IBufferWriter<byte>> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        write(buffer);
        await _stream!.WriteAsync(buffer.WrittenMemory);
    }

    public Task SendHeadersAsync(int streamId, bool endStream, int maxFrameSize, params KeyValuePair<string, string>[] headers)
    {
        var block = new ArrayBufferWriter<byte>();
        _encoder.Encode(headers, block);
        return SendAsync(w => Http2FrameWriter.WriteHeaders(w, streamId, block.WrittenSpan, endStream, maxFrameSize));
    }

    /// <summary>Reads frames until one matches; returns it with its payload copied.</summary>
    public async Task<(Http2FrameHeader Header, byte[] Payload)> ExpectAsync(Func<Http2FrameHeader, bool> match)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (await _reader!.ReadFrameAsync(timeout.Token))
        {
            var frame = _reader.Current;
            if (match(frame.Header))
            {
                return (frame.Header, frame.Payload.ToArray());
            }
        }

        throw new EndOfStreamException("The client closed the connection.");
    }

    public Task<(Http2FrameHeader Header, byte[] Payload)> ExpectAsync(Http2FrameType type) => ExpectAsync(h => h.Type == type);

    public async ValueTask DisposeAsync()
    {
        if (_stream is not null)
        {
            await _stream.DisposeAsync();
        }

        _listener.Stop();
        _listener.Dispose();
    }
}
