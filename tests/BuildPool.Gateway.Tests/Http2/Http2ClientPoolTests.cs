using System.Net;
using BuildPool.Http2;
using BuildPool.TestDoubles;

namespace BuildPool.Gateway.Tests.Http2;

public sealed class Http2ClientPoolTests
{
    private static readonly KeyValuePair<string, string>[] Request =
    [
        new(":method", "POST"),
        new(":scheme", "http"),
        new(":authority", "builder"),
        new(":path", "/moby.buildkit.v1.Control/Solve"),
        new("content-type", "application/grpc"),
    ];

    /// <summary>
    /// A builder that allows one stream per connection and never ends one (what a hostile
    /// builder does): every stream started at once must get a connection of its own while the
    /// pool is under its connection limit. Choosing a connection for its free slot and taking
    /// that slot later let the callers that lost the race queue behind a stream that never ends;
    /// the upstream fuzz hung this way with 96 calls waiting on one connection.
    /// </summary>
    [Fact]
    public async Task Streams_started_at_once_each_get_a_connection_while_the_pool_may_open_one()
    {
        const int streams = 8;
        await using var builder = HostileBuilder.Start("one-stream", _ => new HostileAnswer { Kind = "never answers" });
        builder.MaxConcurrentStreams = 1;
        await using var pool = new Http2ClientPool(new Http2ClientPoolOptions { MaxConnectionsPerBackend = streams });
        var backend = new DnsEndPoint(builder.EndPoint.Host, builder.EndPoint.Port);

        var starts = Enumerable.Range(0, streams)
            .Select(_ => Task.Run(() => pool.StartStreamAsync(backend, Request, endStream: true)))
            .ToArray();
        var started = await Task.WhenAll(starts).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(streams, pool.GetConnectionCount(backend));
        await BuildPool.TestDoubles.Eventually.WaitAsync(
            () => Task.FromResult(builder.Requests),
            requests => requests == streams,
            "the builder received every stream",
            TimeSpan.FromSeconds(30));
        foreach (var stream in started)
        {
            await stream.DisposeAsync();
        }
    }

    [Fact]
    public async Task At_the_connection_limit_a_stream_queues_until_a_slot_frees_and_the_pool_opens_no_more()
    {
        await using var builder = HostileBuilder.Start("one-stream", _ => new HostileAnswer { Kind = "never answers" });
        builder.MaxConcurrentStreams = 1;
        await using var pool = new Http2ClientPool(new Http2ClientPoolOptions { MaxConnectionsPerBackend = 2 });
        var backend = new DnsEndPoint(builder.EndPoint.Host, builder.EndPoint.Port);
        var first = await pool.StartStreamAsync(backend, Request, endStream: true);
        await using var second = await pool.StartStreamAsync(backend, Request, endStream: true);

        var third = pool.StartStreamAsync(backend, Request, endStream: true);
        await Task.Delay(TimeSpan.FromMilliseconds(200));
        Assert.False(third.IsCompleted, "a third stream started although both connections were at the builder's limit of one");

        // Ending the first stream frees its connection's slot for the queued one.
        await first.DisposeAsync();
        await using var queued = await third.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(2, pool.GetConnectionCount(backend));
    }

    /// <summary>
    /// A builder that holds every stream open and allows one per connection keeps a queued call
    /// waiting for as long as it likes; the pool fails it after its bound, naming the limit.
    /// </summary>
    [Fact]
    public async Task A_stream_waiting_at_the_connection_limit_fails_after_the_slot_timeout_naming_the_builders_limit()
    {
        await using var builder = HostileBuilder.Start("holds-streams", _ => new HostileAnswer { Kind = "never answers" });
        builder.MaxConcurrentStreams = 1;
        await using var pool = new Http2ClientPool(new Http2ClientPoolOptions { MaxConnectionsPerBackend = 1, StreamSlotTimeout = TimeSpan.FromSeconds(1) });
        var backend = new DnsEndPoint(builder.EndPoint.Host, builder.EndPoint.Port);
        await using var held = await pool.StartStreamAsync(backend, Request, endStream: true);

        var error = await Assert.ThrowsAsync<Http2ConnectionException>(() => pool.StartStreamAsync(backend, Request, endStream: true).WaitAsync(TimeSpan.FromSeconds(30)));

        Assert.Contains("took no new stream for 1 s", error.Message, StringComparison.Ordinal);
        Assert.Contains("limit of 1 concurrent streams", error.Message, StringComparison.Ordinal);
    }
}
