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

    private static byte[] Timestamp(long seconds, int nanos) => new ProtoWriter().Varint(1, (ulong)seconds).Varint(2, (ulong)nanos).ToArray();

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(4096)]
    public void Keeps_each_vertex_name_inputs_cached_flag_and_times_merged_over_its_updates(int chunk)
    {
        var from = new ProtoWriter().String(1, "sha256:from").String(3, "[1/2] FROM reg/img:1@sha256:3e39").Varint(4, 1)
            .Bytes(5, Timestamp(1_700_000_000, 0)).Bytes(6, Timestamp(1_700_000_000, 0)).ToArray();
        var runStarted = new ProtoWriter().String(1, "sha256:run").String(2, "sha256:from").String(2, "sha256:ctx").String(3, "[2/2] RUN make")
            .Bytes(5, Timestamp(1_700_000_001, 500_000_000)).ToArray();
        var runDone = new ProtoWriter().String(1, "sha256:run").String(2, "sha256:from").String(2, "sha256:ctx").String(3, "[2/2] RUN make")
            .Bytes(5, Timestamp(1_700_000_001, 500_000_000)).Bytes(6, Timestamp(1_700_000_004, 0)).String(7, "exit code: 2").ToArray();
        var stream = Frame(from, runStarted).Concat(Frame(runDone)).ToArray();
        var tally = new StatusTally();

        for (var i = 0; i < stream.Length; i += chunk)
        {
            tally.Observe(stream.AsSpan(i, Math.Min(chunk, stream.Length - i)));
        }

        var vertexes = tally.Vertexes;
        Assert.Equal(["[1/2] FROM reg/img:1@sha256:3e39", "[2/2] RUN make"], vertexes.Select(v => v.Name));
        Assert.True(vertexes[0].Cached);
        var run = vertexes[1];
        Assert.Equal(["sha256:from", "sha256:ctx"], run.Inputs);
        Assert.False(run.Cached);
        Assert.True(run.Failed);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_700_000_001).AddMilliseconds(500), run.Started);
        Assert.Equal(TimeSpan.FromSeconds(2.5), run.Duration);
    }

    [Fact]
    public void Names_are_cut_and_vertexes_beyond_the_bound_are_not_kept()
    {
        var tally = new StatusTally();
        tally.Observe(Frame(new ProtoWriter().String(1, "sha256:long").String(3, "[1/1] RUN " + new string('x', 5000)).ToArray()));
        for (var i = 0; i < StatusTally.MaxVertexes + 10; i++)
        {
            tally.Observe(Frame(Vertex("v" + i, false)));
        }

        Assert.Equal(StatusTally.MaxNameLength, tally.Vertexes[0].Name.Length);
        Assert.EndsWith("…", tally.Vertexes[0].Name, StringComparison.Ordinal);
        Assert.Equal(StatusTally.MaxVertexes, tally.TotalSteps);
        Assert.Equal(StatusTally.MaxVertexes, tally.Vertexes.Count);
    }
}
