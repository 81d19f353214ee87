using System.IO.Pipelines;
using Microsoft.AspNetCore.Http.Features;

namespace BuildPool.Gateway.Server;

// Sees every byte the forwarder writes to the client (for bytes-proxied and the Status step
// count) without copying: it looks at the writer's own buffer as each write is committed.
internal sealed class ObservedResponseBody(IHttpResponseBodyFeature inner, ObservedResponseBody.Observer observer) : IHttpResponseBodyFeature
{
    public delegate void Observer(ReadOnlySpan<byte> written);

    private readonly ObservingWriter _writer = new(inner.Writer, observer);

    public IHttpResponseBodyFeature Inner => inner;

    public Stream Stream => inner.Stream;

    public PipeWriter Writer => _writer;

    public Task CompleteAsync() => inner.CompleteAsync();

    public void DisableBuffering() => inner.DisableBuffering();

    public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default) =>
        inner.SendFileAsync(path, offset, count, cancellationToken);

    public Task StartAsync(CancellationToken cancellationToken = default) => inner.StartAsync(cancellationToken);

    private sealed class ObservingWriter(PipeWriter inner, Observer observer) : PipeWriter
    {
        private Memory<byte> _current;

        public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;

        public override long UnflushedBytes => inner.UnflushedBytes;

        public override void Advance(int bytes)
        {
            observer(_current.Span[..bytes]);
            _current = default;
            inner.Advance(bytes);
        }

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) => inner.FlushAsync(cancellationToken);

        public override Memory<byte> GetMemory(int sizeHint = 0) => _current = inner.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => (_current = inner.GetMemory(sizeHint)).Span;
    }
}
