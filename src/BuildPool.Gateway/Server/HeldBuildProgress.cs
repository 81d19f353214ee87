using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using BuildPool.BuildKit.Protocol;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Microsoft.AspNetCore.Http;

namespace BuildPool.Gateway.Server;

/// <summary>
/// A vertex of the gateway's own in a held build's <c>Status</c> stream, so
/// <c>docker buildx build</c> prints why the build waits (<c>[buildpool] waiting for a slot on
/// builder ci-2 (3 builds ahead)</c>) and, once it goes on, how long it waited. It writes the
/// response's first messages itself; the builder's messages follow on the same stream.
/// </summary>
internal sealed class HeldBuildProgress(HttpResponse response, string reference, TimeProvider time)
{
    private const string Prefix = "[buildpool] ";

    private readonly string _digest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("buildpool-wait/" + reference)));
    private Timestamp? _started;
    private string? _shown;

    /// <summary>Shows <paramref name="text"/> as the vertex's name (again only when it changed).</summary>
    public async Task ShowAsync(string text, CancellationToken cancellationToken)
    {
        if (text == _shown)
        {
            return;
        }

        if (!response.HasStarted)
        {
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = "application/grpc";
        }

        _started ??= Timestamp.FromDateTimeOffset(time.GetUtcNow());
        _shown = text;
        await WriteAsync(new Vertex { Digest = _digest, Name = Prefix + text, Started = _started }, cancellationToken);
    }

    /// <summary>Completes the vertex (with <paramref name="error"/> when the build does not go on); nothing when none was shown.</summary>
    public async Task CompleteAsync(string? error, CancellationToken cancellationToken)
    {
        if (_shown is null)
        {
            return;
        }

        var vertex = new Vertex { Digest = _digest, Name = Prefix + _shown, Started = _started, Completed = Timestamp.FromDateTimeOffset(time.GetUtcNow()) };
        if (error is not null)
        {
            vertex.Error = error;
        }

        _shown = null;
        await WriteAsync(vertex, cancellationToken);
    }

    private async Task WriteAsync(Vertex vertex, CancellationToken cancellationToken)
    {
        var message = new StatusResponse { Vertexes = { vertex } };
        var size = message.CalculateSize();
        var writer = response.BodyWriter;
        var buffer = writer.GetSpan(5 + size);
        buffer[0] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(buffer[1..], (uint)size);
        message.WriteTo(buffer.Slice(5, size));
        writer.Advance(5 + size);
        await writer.FlushAsync(cancellationToken);
    }
}
