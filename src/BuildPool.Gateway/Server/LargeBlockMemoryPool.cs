using System.Buffers;
using System.Collections.Concurrent;

namespace BuildPool.Gateway.Server;

/// <summary>
/// Kestrel's buffers for the gateway's client connections, in 64 KiB pinned blocks instead of
/// Kestrel's default 4 KiB ones. Kestrel receives into one block at a time, so with 4 KiB blocks
/// a build context arriving at hundreds of MiB/s costs a receive call, a pipe flush and a frame
/// parsing pass per 4 KiB; with 64 KiB blocks, per 64 KiB. A gateway has few, busy connections,
/// so the larger blocks cost little memory. Blocks and their owners are pooled: renting
/// allocates nothing once the pool is warm.
/// </summary>
internal sealed class LargeBlockMemoryPool : MemoryPool<byte>
{
    internal const int BlockSize = 64 * 1024;

    private readonly ConcurrentQueue<Block> _free = new();
    private readonly int _maxRetained;
    private int _retained;
    private bool _disposed;

    /// <param name="maxRetained">Free blocks kept for reuse; more are left to the GC.</param>
    public LargeBlockMemoryPool(int maxRetained = 1024)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxRetained);
        _maxRetained = maxRetained;
    }

    public override int MaxBufferSize => BlockSize;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, BlockSize);
        if (_free.TryDequeue(out var block))
        {
            Interlocked.Decrement(ref _retained);
            block.Reuse();
            return block;
        }

        return new Block(this, GC.AllocateUninitializedArray<byte>(BlockSize, pinned: true));
    }

    protected override void Dispose(bool disposing)
    {
        _disposed = true;
        _free.Clear();
    }

    private void Return(Block block)
    {
        if (Volatile.Read(ref _disposed))
        {
            return;
        }

        if (Interlocked.Increment(ref _retained) > _maxRetained)
        {
            Interlocked.Decrement(ref _retained);
            return;
        }

        _free.Enqueue(block);
    }

    private sealed class Block(LargeBlockMemoryPool pool, byte[] array) : IMemoryOwner<byte>
    {
        private int _rented = 1;

        public Memory<byte> Memory => array;

        public void Reuse() => Volatile.Write(ref _rented, 1);

        public void Dispose()
        {
            // A second Dispose must not put the block in the pool twice.
            if (Interlocked.Exchange(ref _rented, 0) == 1)
            {
                pool.Return(this);
            }
        }
    }
}
