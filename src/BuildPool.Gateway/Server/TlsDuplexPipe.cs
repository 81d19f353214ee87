using System.Buffers;
using System.IO.Pipelines;
using System.Net.Security;

namespace BuildPool.Gateway.Server;

/// <summary>The decrypted side of a terminated TLS connection, as the pipes Kestrel's HTTP/2 reads and writes.</summary>
internal sealed class TlsDuplexPipe(SslStream ssl, MemoryPool<byte>? pool) : IDuplexPipe
{
    // As Kestrel sizes its own TLS pipes: reads of at least half a 4 KiB segment from the
    // connection's pool (whose blocks may be larger), and a zero-byte read first so an idle
    // connection holds no read buffer.
    private const int SegmentSize = 4096;

    public PipeReader Input { get; } = PipeReader.Create(
        ssl,
        new StreamPipeReaderOptions(pool, bufferSize: SegmentSize, minimumReadSize: SegmentSize / 2, leaveOpen: true, useZeroByteReads: true));

    public PipeWriter Output { get; } = PipeWriter.Create(ssl, new StreamPipeWriterOptions(pool, minimumBufferSize: SegmentSize, leaveOpen: true));

    public async ValueTask CompleteAsync()
    {
        await Input.CompleteAsync();
        await Output.CompleteAsync();
    }
}
