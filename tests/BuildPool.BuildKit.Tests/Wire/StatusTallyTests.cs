using System.Buffers.Binary;
using BuildPool.BuildKit.Wire;
using BuildPool.TestDoubles;

namespace BuildPool.BuildKit.Tests.Wire;

public sealed class StatusTallyTests
{
    private static byte[] Vertex(string digest, bool cached) =>
        new ProtoWriter().String(1, digest).String(3, "step " + digest).Varint(4, cached ? 1UL : 0UL).ToArray();

    private static byte[] Frame(params byte[][] vertexes)
    {
        var message = new ProtoWriter();
        foreach (var vertex in vertexes)
        {
            message.Bytes(1, vertex);
        }

        var body = message.ToArray();
        var framed = new byte[5 + body.Length];
        BinaryPrimitives.WriteUInt32BigEndian(framed.AsSpan(1), (uint)body.Length);
        body.CopyTo(framed, 5);
        return framed;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4096)]
    public void Counts_distinct_and_cached_vertexes_whatever_the_chunking(int chunk)
    {
        var stream = Frame(Vertex("a", true), Vertex("b", false), Vertex("c", false))
            .Concat(Frame(Vertex("b", false), Vertex("c", true)))
            .Concat(Frame(Vertex("d", false)))
            .ToArray();
        var tally = new StatusTally();

        for (var i = 0; i < stream.Length; i += chunk)
        {
            tally.Observe(stream.AsSpan(i, Math.Min(chunk, stream.Length - i)));
        }

        Assert.Equal((2, 4), (tally.CachedSteps, tally.TotalSteps));
    }

    [Fact]
    public void Skips_compressed_and_malformed_messages_and_keeps_counting_after_them()
    {
        var compressed = Frame(Vertex("x", true));
        compressed[0] = 1;
        byte[] garbage = [0, 0, 0, 0, 3, 0xFF, 0xFF, 0xFF];
        var tally = new StatusTally();

        tally.Observe(compressed);
        tally.Observe(garbage);
        tally.Observe(Frame(Vertex("y", true)));

        Assert.Equal((1, 1), (tally.CachedSteps, tally.TotalSteps));
    }
}
