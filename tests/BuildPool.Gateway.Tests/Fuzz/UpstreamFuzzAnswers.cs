using BuildPool.Http2;
using BuildPool.TestDoubles;

namespace BuildPool.Gateway.Tests.Fuzz;

/// <summary>
/// What a hostile builder answers a forwarded call with, generated from a seed: honest gRPC
/// answers with bytes flipped, cut or repeated, frames of random type, flags, stream and length,
/// HPACK garbage and bombs, floods, hostile SETTINGS, GOAWAY and RST_STREAM, a slow drip,
/// silence, and a builder that stops reading; then it stays, closes or resets.
/// </summary>
internal static class UpstreamFuzzAnswers
{
    private static readonly byte[] FloodFrames =
    [
        (byte)Http2FrameType.Ping, (byte)Http2FrameType.Settings, (byte)Http2FrameType.Data, (byte)Http2FrameType.RstStream, (byte)Http2FrameType.Priority, 0xEE,
    ];

    public static HostileAnswer Next(Random random, int streamId)
    {
        var kind = random.Next(12);
        var answer = kind switch
        {
            0 => new HostileAnswer { Writes = [HostileFrames.GrpcResponse(streamId, Bytes(random, random.Next(64)))], Kind = "honest" },
            1 or 2 => new HostileAnswer { Writes = [Mutate(random, HostileFrames.GrpcResponse(streamId, Bytes(random, random.Next(64))))], Kind = "mutated answer" },
            3 or 4 => new HostileAnswer { Writes = RandomFrames(random, streamId), Kind = "random frames" },
            5 => new HostileAnswer { Writes = [HostileFrames.Frame((byte)Http2FrameType.Headers, Http2FrameFlags.EndHeaders, streamId, Bytes(random, random.Next(1, 256)))], Kind = "HPACK garbage" },
            6 => new HostileAnswer { Writes = [HostileFrames.HpackBomb(streamId, random.Next(100, 4_000), random.Next(100, 12_000))], Kind = "HPACK bomb" },
            7 => new HostileAnswer { Writes = [Flood(random, streamId)], Kind = "flood" },
            8 => new HostileAnswer { Writes = [HostileSettings(random), HostileFrames.GrpcResponse(streamId, [])], Kind = "hostile SETTINGS" },
            9 => new HostileAnswer
            {
                Writes = Chop(random, HostileFrames.GrpcResponse(streamId, Bytes(random, 32))),
                Gap = TimeSpan.FromMilliseconds(random.Next(1, 20)),
                Kind = "slow drip",
            },
            10 => new HostileAnswer { StopReading = true, Kind = "never reads" },
            _ => new HostileAnswer { Kind = "silence" },
        };
        var end = random.Next(10);
        return answer with { End = end < 4 ? HostileEnd.KeepOpen : end < 8 ? HostileEnd.Close : HostileEnd.Abort };
    }

    private static byte[] Bytes(Random random, int count)
    {
        var bytes = new byte[count];
        random.NextBytes(bytes);
        return bytes;
    }

    private static byte[] Mutate(Random random, byte[] bytes)
    {
        var list = new List<byte>(bytes);
        for (var i = random.Next(1, 6); i > 0 && list.Count > 0; i--)
        {
            var at = random.Next(list.Count);
            switch (random.Next(4))
            {
                case 0:
                    list[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1:
                    list.RemoveRange(at, list.Count - at);
                    break;
                case 2:
                    list.InsertRange(at, list.GetRange(at, Math.Min(list.Count - at, random.Next(1, 32))));
                    break;
                default:
                    list.InsertRange(at, Bytes(random, random.Next(1, 16)));
                    break;
            }
        }

        return [.. list];
    }

    private static List<byte[]> RandomFrames(Random random, int streamId)
    {
        var frames = new List<byte[]>();
        for (var i = random.Next(1, 12); i > 0; i--)
        {
            var type = (byte)random.Next(0x0C);
            var flags = (byte)random.Next(256);
            var stream = random.Next(5) switch
            {
                0 => 0,
                1 => streamId + 2,
                2 => random.Next(),
                _ => streamId,
            };
            var payload = Bytes(random, random.Next(5) == 0 ? random.Next(200) : random.Next(12));
            int? length = random.Next(8) == 0 ? random.Next(1 << 24) : null;
            frames.Add(HostileFrames.Frame(type, flags, stream, payload, length));
        }

        return frames;
    }

    private static byte[] Flood(Random random, int streamId)
    {
        var type = FloodFrames[random.Next(FloodFrames.Length)];
        var frame = type switch
        {
            (byte)Http2FrameType.Ping => HostileFrames.PingFrame((ulong)random.NextInt64()),
            (byte)Http2FrameType.Settings => HostileFrames.ServerSettings(),
            (byte)Http2FrameType.RstStream => HostileFrames.RstStreamFrame(streamId, 8),
            (byte)Http2FrameType.Priority => HostileFrames.Frame((byte)Http2FrameType.Priority, 0, streamId, [0, 0, 0, 0, 15]),
            _ => HostileFrames.Frame(type, 0, type == (byte)Http2FrameType.Data ? streamId : 0, []),
        };
        return HostileFrames.Flood(frame, random.Next(500, 5_000));
    }

    private static byte[] HostileSettings(Random random)
    {
        var settings = new (ushort, uint)[random.Next(1, 8)];
        for (var i = 0; i < settings.Length; i++)
        {
            // Known identifiers (1..6) with extreme values, and unknown ones.
            settings[i] = ((ushort)random.Next(1, 10), random.Next(3) switch
            {
                0 => 0u,
                1 => uint.MaxValue - (uint)random.Next(4),
                _ => (uint)random.Next(),
            });
        }

        return HostileFrames.ServerSettings(settings);
    }

    private static List<byte[]> Chop(Random random, byte[] bytes)
    {
        var parts = new List<byte[]>();
        for (var at = 0; at < bytes.Length;)
        {
            var size = Math.Min(bytes.Length - at, random.Next(1, 16));
            parts.Add(bytes.AsSpan(at, size).ToArray());
            at += size;
        }

        return parts;
    }
}
