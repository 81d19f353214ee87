using System.Buffers;
using Microsoft.AspNetCore.Connections;

namespace BuildPool.Gateway.Server;

/// <summary>Gives Kestrel's socket transport <see cref="LargeBlockMemoryPool"/>s.</summary>
internal sealed class LargeBlockMemoryPoolFactory : IMemoryPoolFactory<byte>
{
    public MemoryPool<byte> Create(MemoryPoolOptions? options = null) => new LargeBlockMemoryPool();
}
