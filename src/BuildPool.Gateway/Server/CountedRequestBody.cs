using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Http.Features;

namespace BuildPool.Gateway.Server;

// Counts the request body bytes the forwarder consumes (client → builder), from the reader's
// own buffers.
internal sealed class CountedRequestBody(PipeReader inner, Action<long> consumed) : IRequestBodyPipeFeature
{
    private readonly CountingReader _reader = new(inner, consumed);

    public PipeReader Reader => _reader;

    private sealed class CountingReader(PipeReader inner, Action<long> consumed) : PipeReader
    {
        private ReadOnlySequence<byte> _last;

        public override void AdvanceTo(SequencePosition consumedTo) => AdvanceTo(consumedTo, consumedTo);

        public override void AdvanceTo(SequencePosition consumedTo, SequencePosition examined)
        {
            var length = _last.Slice(_last.Start, consumedTo).Length;
            if (length > 0)
            {
                consumed(length);
            }

            _last = default;
            inner.AdvanceTo(consumedTo, examined);
        }

        public override void CancelPendingRead() => inner.CancelPendingRead();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        // Pooled: a body is read in many small steps, and this is the per-chunk path.
        [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
        public override async ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
        {
            var result = await inner.ReadAsync(cancellationToken);
            _last = result.Buffer;
            return result;
        }

        public override bool TryRead(out ReadResult result)
        {
            if (inner.TryRead(out result))
            {
                _last = result.Buffer;
                return true;
            }

            return false;
        }
    }
}
