using System.Buffers.Binary;
using BuildPool.Gateway.Forwarding;
using CsCheck;

namespace BuildPool.Gateway.Tests.Forwarding;

public sealed class GrpcMessageBoundaryTests
{
    [Fact]
    public void Whole_messages_however_they_are_cut_leave_the_stream_at_a_boundary_and_only_there()
    {
        Gen.Int[0, 70_000].Array[1, 6].Select(Gen.Int[1, 40_000]).Sample((lengths, chunk) =>
        {
            var stream = Frame(lengths, out var ends);
            var boundary = new GrpcMessageBoundary();
            for (var offset = 0; offset < stream.Length; offset += chunk)
            {
                var end = Math.Min(offset + chunk, stream.Length);
                boundary.Advance(stream.AsSpan(offset, end - offset));
                Assert.Equal(ends.Contains(end), boundary.AtBoundary);
            }

            Assert.True(boundary.AtBoundary);
        });
    }

    [Fact]
    public void A_cut_inside_the_five_byte_prefix_is_not_a_boundary()
    {
        var stream = Frame([3], out _);
        var boundary = new GrpcMessageBoundary();
        Assert.True(boundary.AtBoundary);
        boundary.Advance(stream.AsSpan(0, 2));
        Assert.False(boundary.AtBoundary);
        boundary.Advance(stream.AsSpan(2, 3));
        Assert.False(boundary.AtBoundary);
        boundary.Advance(stream.AsSpan(5));
        Assert.True(boundary.AtBoundary);
    }

    private static byte[] Frame(int[] lengths, out HashSet<int> ends)
    {
        ends = [];
        var stream = new List<byte>();
        foreach (var length in lengths)
        {
            var prefix = new byte[5];
            BinaryPrimitives.WriteUInt32BigEndian(prefix.AsSpan(1), (uint)length);
            stream.AddRange(prefix);
            stream.AddRange(Enumerable.Repeat((byte)0xAB, length));
            ends.Add(stream.Count);
        }

        return [.. stream];
    }
}
