using BuildPool.Gateway.Server;

namespace BuildPool.Gateway.Tests.Server;

public sealed class LargeBlockMemoryPoolTests
{
    [Fact]
    public void Every_rented_block_holds_64_KiB_whatever_size_was_asked_for()
    {
        using var pool = new LargeBlockMemoryPool();

        using var small = pool.Rent(1);
        using var unspecified = pool.Rent();

        Assert.Equal(64 * 1024, small.Memory.Length);
        Assert.Equal(64 * 1024, unspecified.Memory.Length);
        Assert.Equal(64 * 1024, pool.MaxBufferSize);
    }

    [Fact]
    public void Asking_for_more_than_a_block_is_refused()
    {
        using var pool = new LargeBlockMemoryPool();

        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Rent((64 * 1024) + 1));
    }

    [Fact]
    public void A_returned_block_is_reused_instead_of_allocating_a_new_one()
    {
        using var pool = new LargeBlockMemoryPool();
        var first = pool.Rent();
        first.Memory.Span[0] = 42;
        first.Dispose();

        using var second = pool.Rent();

        Assert.Same(first, second);
        Assert.Equal(42, second.Memory.Span[0]);
    }

    [Fact]
    public void Disposing_a_block_twice_returns_it_once_so_two_renters_never_share_it()
    {
        using var pool = new LargeBlockMemoryPool();
        var block = pool.Rent();
        block.Dispose();
        block.Dispose();

        using var a = pool.Rent();
        using var b = pool.Rent();

        Assert.NotSame(a, b);
    }

    [Fact]
    public void Blocks_beyond_the_retention_limit_are_left_to_the_garbage_collector()
    {
        using var pool = new LargeBlockMemoryPool(maxRetained: 1);
        var a = pool.Rent();
        var b = pool.Rent();
        a.Dispose();
        b.Dispose();

        using var c = pool.Rent();
        using var d = pool.Rent();

        Assert.Same(a, c);
        Assert.NotSame(b, d);
    }
}
