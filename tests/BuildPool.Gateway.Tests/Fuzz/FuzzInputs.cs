using System.Buffers;
using System.Buffers.Binary;
using BuildPool.Http2;
using BuildPool.TestDoubles;

namespace BuildPool.Gateway.Tests.Fuzz;

/// <summary>How a fuzz connection ends after its bytes are written.</summary>
internal enum FuzzClose
{
    /// <summary>Closes at once (half of the time with an RST).</summary>
    Abort,

    /// <summary>Shuts down the sending side, then reads until the gateway closes or the read timeout.</summary>
    HalfClose,

    /// <summary>Reads until the gateway closes or the read timeout, then closes.</summary>
    Read,
}

/// <summary>One fuzz input: the bytes a raw TCP client writes (in these chunks) and how it hangs up.</summary>
internal sealed record FuzzInput(string Kind, IReadOnlyList<byte[]> Writes, FuzzClose Close)
{
    public int Length => Writes.Sum(w => w.Length);

    public override string ToString() => $"{Kind} ({Length} bytes in {Writes.Count} writes, {Close})";
}

/// <summary>
/// Generates what a hostile or broken client could send the gateway: (a) malformed HTTP/2,
/// (b) valid HTTP/2 requests for Control/Solve and Control/Status with broken gRPC bodies,
/// (c) random protobuf as a Solve's first message; valid seeds mutated, and pure random bytes.
/// Everything derives from one <see cref="Random"/>, so a seed reproduces the input.
/// </summary>
internal static class FuzzInputs
{
    public const string SolvePath = "/moby.buildkit.v1.Control/Solve";
    public const string StatusPath = "/moby.buildkit.v1.Control/Status";
    public const string SessionPath = "/moby.buildkit.v1.Control/Session";
    private const int MaxFrameSize = 16 * 1024;

    private static readonly Http2FrameType[] MustHaveStream = [Http2FrameType.Data, Http2FrameType.Headers, Http2FrameType.Priority, Http2FrameType.RstStream, Http2FrameType.Continuation];
    private static readonly Http2FrameType[] MustBeStreamZero = [Http2FrameType.Settings, Http2FrameType.Ping, Http2FrameType.GoAway];
    private static readonly string[] Paths = [SolvePath, StatusPath, SolvePath, StatusPath, SessionPath, "/moby.buildkit.v1.Control/Info", "/moby.buildkit.v1.frontend.LLBBridge/Ping", "/", "/x"];

    public static FuzzInput Next(Random r)
    {
        var roll = r.Next(100);
        var input = roll switch
        {
            < 35 => MalformedHttp2(r),
            < 60 => BrokenGrpc(r),
            < 75 => RandomProtobufSolve(r),
            < 85 => Mutated(r),
            < 93 => CutOffBuild(r),
            _ => PureRandom(r),
        };
        return input with { Writes = Split(r, input.Writes) };
    }

    // (a) --------------------------------------------------------------------------------------

    private static FuzzInput MalformedHttp2(Random r)
    {
        var w = new ArrayBufferWriter<byte>();
        var choice = r.Next(12);
        if (choice != 1 && choice != 2)
        {
            w.Write(Http2FrameWriter.ClientPreface);
            if (r.Next(3) > 0)
            {
                WriteSettings(w, r);
            }
        }

        string kind;
        switch (choice)
        {
            case 0:
                kind = "a:random-after-preface";
                w.Write(RandomBytes(r, r.Next(1, 2048)));
                break;
            case 1:
                kind = "a:mutated-preface";
                var preface = Http2FrameWriter.ClientPreface.ToArray();
                preface[r.Next(preface.Length)] ^= (byte)r.Next(1, 256);
                w.Write(preface.AsSpan(0, r.Next(1, preface.Length + 1)));
                WriteSettings(w, r);
                break;
            case 2:
                kind = "a:http1";
                w.Write("POST /moby.buildkit.v1.Control/Solve HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n\0\0\0\0\0"u8);
                break;
            case 3:
                kind = "a:bad-length";
                var payload = RandomBytes(r, r.Next(0, 64));
                var declared = r.Next(4) switch
                {
                    0 => payload.Length + r.Next(1, 100),
                    1 => Math.Max(0, payload.Length - r.Next(1, 10)),
                    2 => MaxFrameSize + r.Next(1, 1 << 20),
                    _ => 0xFFFFFF,
                };
                RawFrame(w, declared, (byte)RandomType(r), (byte)r.Next(256), RandomStream(r), payload);
                break;
            case 4:
                kind = "a:random-frames";
                for (var i = r.Next(1, 8); i > 0; i--)
                {
                    var body = RandomBytes(r, r.Next(0, 40));
                    RawFrame(w, body.Length, (byte)r.Next(256), (byte)r.Next(256), RandomStream(r), body);
                }

                break;
            case 5:
                kind = "a:needs-stream-on-0";
                var type = MustHaveStream[r.Next(MustHaveStream.Length)];
                var frame = RandomBytes(r, type is Http2FrameType.Priority ? 5 : type is Http2FrameType.RstStream ? 4 : r.Next(0, 32));
                RawFrame(w, frame.Length, (byte)type, (byte)r.Next(256), 0, frame);
                break;
            case 6:
                kind = "a:stream-0-only-on-stream";
                var zeroType = MustBeStreamZero[r.Next(MustBeStreamZero.Length)];
                var zeroPayload = RandomBytes(r, zeroType switch { Http2FrameType.Settings => 6, Http2FrameType.Ping => 8, _ => 8 });
                RawFrame(w, zeroPayload.Length, (byte)zeroType, 0, 1 + (2 * r.Next(100)), zeroPayload);
                break;
            case 7:
                kind = "a:bad-control-frame";
                BadControlFrame(w, r);
                break;
            case 8:
                kind = "a:oversized-headers";
                OversizedHeaders(w, r);
                break;
            case 9:
                kind = "a:hpack-garbage";
                var block = RandomBytes(r, r.Next(1, 256));
                if (r.Next(2) == 0)
                {
                    // A dynamic table size update far above the advertised limit, or an index out of range.
                    block[0] = r.Next(2) == 0 ? (byte)0x3F : (byte)0xFF;
                }

                RawFrame(w, block.Length, (byte)Http2FrameType.Headers, (byte)(Http2FrameFlags.EndHeaders | (r.Next(2) == 0 ? Http2FrameFlags.EndStream : 0)), 1, block);
                break;
            case 10:
                kind = "a:stream-order";
                StreamOrderViolation(w, r);
                break;
            default:
                kind = "a:truncated-frame";
                var valid = ValidRequest(r, Pick(r, SolvePath, StatusPath), ValidSolve(r));
                w.Write(valid.AsSpan(Http2FrameWriter.ClientPreface.Length, r.Next(1, valid.Length - Http2FrameWriter.ClientPreface.Length)));
                break;
        }

        return new FuzzInput(kind, [w.WrittenSpan.ToArray()], PickClose(r));
    }

    private static void BadControlFrame(ArrayBufferWriter<byte> w, Random r)
    {
        switch (r.Next(7))
        {
            case 0: // SETTINGS length not a multiple of 6
                RawFrame(w, 7, (byte)Http2FrameType.Settings, 0, 0, RandomBytes(r, 7));
                break;
            case 1: // PING not 8 bytes
                var ping = RandomBytes(r, Pick(r, 0, 7, 9, 64));
                RawFrame(w, ping.Length, (byte)Http2FrameType.Ping, 0, 0, ping);
                break;
            case 2: // SETTINGS ACK with a payload
                RawFrame(w, 6, (byte)Http2FrameType.Settings, Http2FrameFlags.Ack, 0, RandomBytes(r, 6));
                break;
            case 3: // Out-of-range setting values
                var (id, value) = r.Next(3) switch
                {
                    0 => (Http2SettingId.EnablePush, (uint)r.Next(2, int.MaxValue)),
                    1 => (Http2SettingId.InitialWindowSize, 0x80000000u + (uint)r.Next(int.MaxValue)),
                    _ => (Http2SettingId.MaxFrameSize, r.Next(2) == 0 ? (uint)r.Next(0, MaxFrameSize) : 0x1000000u + (uint)r.Next(int.MaxValue)),
                };
                Http2FrameWriter.WriteSettings(w, [(id, value)]);
                break;
            case 4: // WINDOW_UPDATE with increment 0, or overflowing the window
                Http2FrameWriter.WriteWindowUpdate(w, r.Next(2) == 0 ? 0 : 1, r.Next(2) == 0 ? 0 : int.MaxValue);
                Http2FrameWriter.WriteWindowUpdate(w, 0, int.MaxValue);
                break;
            case 5: // RST_STREAM / WINDOW_UPDATE on an idle stream
                Http2FrameWriter.WriteRstStream(w, 1 + (2 * r.Next(1000)), (Http2ErrorCode)r.Next(16));
                break;
            default: // GOAWAY from the client, then more frames
                Http2FrameWriter.WriteGoAway(w, r.Next(int.MaxValue), (Http2ErrorCode)r.Next(16), RandomBytes(r, r.Next(0, 32)));
                w.Write(ValidRequest(r, SolvePath, ValidSolve(r)).AsSpan(Http2FrameWriter.ClientPreface.Length));
                break;
        }
    }

    private static void OversizedHeaders(ArrayBufferWriter<byte> w, Random r)
    {
        var headers = Request(r, Pick(r, SolvePath, StatusPath));
        var size = Pick(r, 17 * 1024, 70 * 1024, 300 * 1024);
        if (r.Next(2) == 0)
        {
            headers.Add(new("x-fuzz", new string('v', size)));
        }
        else
        {
            for (var i = 0; i < size / 64; i++)
            {
                headers.Add(new($"x-fuzz-{i}", new string('v', 48)));
            }
        }

        var block = Encode(headers);
        Http2FrameWriter.WriteHeaders(w, 1, block, endStream: r.Next(2) == 0, MaxFrameSize);
        if (r.Next(2) == 0)
        {
            // One HEADERS frame larger than SETTINGS_MAX_FRAME_SIZE instead of CONTINUATIONs.
            w.Clear();
            w.Write(Http2FrameWriter.ClientPreface);
            RawFrame(w, block.Length, (byte)Http2FrameType.Headers, Http2FrameFlags.EndHeaders, 1, block);
        }
    }

    private static void StreamOrderViolation(ArrayBufferWriter<byte> w, Random r)
    {
        var block = Encode(Request(r, SolvePath));
        switch (r.Next(4))
        {
            case 0: // even (server-initiated) stream id
                Http2FrameWriter.WriteHeaders(w, 2 * r.Next(1, 100), block, false, MaxFrameSize);
                break;
            case 1: // decreasing stream ids
                Http2FrameWriter.WriteHeaders(w, 5, block, false, MaxFrameSize);
                Http2FrameWriter.WriteHeaders(w, 3, block, false, MaxFrameSize);
                break;
            case 2: // HEADERS without END_HEADERS followed by something other than its CONTINUATION
                RawFrame(w, block.Length / 2, (byte)Http2FrameType.Headers, 0, 1, block.AsSpan(0, block.Length / 2));
                Http2FrameWriter.WriteData(w, 1, GrpcMessage(0, ValidSolve(r)), true);
                break;
            default: // DATA after END_STREAM, and on a stream never opened
                Http2FrameWriter.WriteHeaders(w, 1, block, true, MaxFrameSize);
                Http2FrameWriter.WriteData(w, 1, GrpcMessage(0, ValidSolve(r)), true);
                Http2FrameWriter.WriteData(w, 7, RandomBytes(r, 10), false);
                break;
        }
    }

    // (b) --------------------------------------------------------------------------------------

    private static FuzzInput BrokenGrpc(Random r)
    {
        var path = Pick(r, SolvePath, StatusPath);
        var w = Start(r, path, out var streamId);
        var message = r.Next(3) == 0 ? RandomBytes(r, r.Next(0, 200)) : ValidSolve(r);
        string kind;
        byte[] body;
        switch (r.Next(7))
        {
            case 0:
                kind = "b:length-too-long";
                body = GrpcMessage(0, message, declared: (uint)(message.Length + r.Next(1, 1000)));
                break;
            case 1:
                kind = "b:length-too-short";
                body = GrpcMessage(0, message, declared: (uint)r.Next(0, Math.Max(1, message.Length)));
                break;
            case 2:
                kind = "b:compressed-flag";
                body = GrpcMessage((byte)Pick(r, 1, 2, 0x80, 0xFF), message);
                break;
            case 3:
                kind = "b:huge-length";
                body = GrpcMessage(0, message, declared: Pick(r, 4u * 1024 * 1024 + 1, uint.MaxValue, 0x7FFFFFFFu));
                break;
            case 4:
                kind = "b:partial-prefix";
                body = GrpcMessage(0, message)[..r.Next(0, 5)];
                break;
            case 5:
                kind = "b:random-body";
                body = RandomBytes(r, r.Next(0, 512));
                break;
            default:
                kind = "b:valid-then-garbage";
                body = [.. GrpcMessage(0, message), .. RandomBytes(r, r.Next(1, 64))];
                break;
        }

        WriteBody(w, r, streamId, body);
        return new FuzzInput($"{kind} {Short(path)}", [w.WrittenSpan.ToArray()], PickClose(r));
    }

    // (c) --------------------------------------------------------------------------------------

    private static FuzzInput RandomProtobufSolve(Random r)
    {
        var w = Start(r, SolvePath, out var streamId);
        var message = r.Next(3) switch
        {
            0 => RandomProto(r, depth: 0).ToArray(),
            1 => MutateBytes(r, ValidSolve(r), 0),
            _ => RandomBytes(r, r.Next(0, 300)),
        };
        WriteBody(w, r, streamId, GrpcMessage(0, message));
        return new FuzzInput("c:random-protobuf-solve", [w.WrittenSpan.ToArray()], PickClose(r));
    }

    // Mutations of valid seeds, and pure random ----------------------------------------------

    private static FuzzInput Mutated(Random r)
    {
        var seed = r.Next(3) switch
        {
            0 => ValidRequest(r, SolvePath, ValidSolve(r)),
            1 => ValidRequest(r, StatusPath, new ProtoWriter().String(1, RandomRef(r)).ToArray()),
            _ => [.. ValidRequest(r, SessionPath, [], session: true), .. ValidRequest(r, SolvePath, ValidSolve(r), streamId: 3, preface: false)],
        };
        // Keep the preface most of the time so the mutation reaches the frame layer.
        var keep = r.Next(4) == 0 ? 0 : Http2FrameWriter.ClientPreface.Length;
        return new FuzzInput("mutated-seed", [MutateBytes(r, seed, keep)], PickClose(r));
    }

    /// <summary>
    /// The unmutated seed: a build's Session, Solve and Status on one connection, which then
    /// aborts, half-closes or goes quiet: the path where a routed, admitted Solve must give its
    /// slot and load back when its client vanishes.
    /// </summary>
    private static FuzzInput CutOffBuild(Random r)
    {
        var reference = RandomRef(r);
        var session = RandomRef(r);
        var solve = new ProtoWriter().String(1, reference).String(5, session).Message(13, ProtoWriter.Entry("image", ("name", $"example.test/fuzz/p{r.Next(50)}")));
        var w = new ArrayBufferWriter<byte>();
        w.Write(Http2FrameWriter.ClientPreface);
        Http2FrameWriter.WriteSettings(w, []);
        var sessionHeaders = Request(r, SessionPath);
        sessionHeaders.Add(new("x-docker-expose-session-uuid", session));
        sessionHeaders.Add(new("x-docker-expose-session-sharedkey", "fuzz"));
        Http2FrameWriter.WriteHeaders(w, 1, Encode(sessionHeaders), endStream: false, MaxFrameSize);
        Http2FrameWriter.WriteHeaders(w, 3, Encode(Request(r, SolvePath)), endStream: false, MaxFrameSize);
        Http2FrameWriter.WriteData(w, 3, GrpcMessage(0, solve.ToArray()), endStream: r.Next(2) == 0);
        Http2FrameWriter.WriteHeaders(w, 5, Encode(Request(r, StatusPath)), endStream: false, MaxFrameSize);
        Http2FrameWriter.WriteData(w, 5, GrpcMessage(0, new ProtoWriter().String(1, reference).ToArray()), endStream: true);
        if (r.Next(4) == 0)
        {
            Http2FrameWriter.WriteRstStream(w, 3, Http2ErrorCode.Cancel);
        }

        return new FuzzInput("valid-build-cut-off", [w.WrittenSpan.ToArray()], PickClose(r));
    }

    private static FuzzInput PureRandom(Random r)
    {
        byte[] bytes = r.Next(2) == 0
            ? [.. Http2FrameWriter.ClientPreface, .. RandomBytes(r, r.Next(0, 4096))]
            : RandomBytes(r, r.Next(0, 4096));
        return new FuzzInput("pure-random", [bytes], PickClose(r));
    }

    /// <summary>Flips, overwrites, inserts, deletes, duplicates and truncates bytes after <paramref name="keep"/>.</summary>
    private static byte[] MutateBytes(Random r, byte[] seed, int keep)
    {
        var bytes = new List<byte>(seed);
        for (var i = r.Next(1, 9); i > 0 && bytes.Count > keep; i--)
        {
            var at = r.Next(keep, bytes.Count);
            switch (r.Next(6))
            {
                case 0:
                    bytes[at] ^= (byte)(1 << r.Next(8));
                    break;
                case 1:
                    bytes[at] = Pick(r, (byte)0, (byte)0xFF, (byte)0x7F, (byte)0x80, (byte)r.Next(256));
                    break;
                case 2:
                    bytes.InsertRange(at, RandomBytes(r, r.Next(1, 16)));
                    break;
                case 3:
                    bytes.RemoveRange(at, Math.Min(r.Next(1, 16), bytes.Count - at));
                    break;
                case 4:
                    var length = Math.Min(r.Next(1, 32), bytes.Count - at);
                    bytes.InsertRange(r.Next(keep, bytes.Count), bytes.GetRange(at, length));
                    break;
                default:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
            }
        }

        return [.. bytes];
    }

    // Building blocks --------------------------------------------------------------------------

    /// <summary>A complete, valid request: preface, SETTINGS, HEADERS, one gRPC message, END_STREAM.</summary>
    public static byte[] ValidRequest(Random r, string path, byte[] message, int streamId = 1, bool preface = true, bool session = false)
    {
        var w = new ArrayBufferWriter<byte>();
        if (preface)
        {
            w.Write(Http2FrameWriter.ClientPreface);
            Http2FrameWriter.WriteSettings(w, []);
        }

        var headers = Request(r, path);
        if (session)
        {
            headers.Add(new("x-docker-expose-session-uuid", RandomRef(r)));
            headers.Add(new("x-docker-expose-session-sharedkey", "fuzz"));
        }

        Http2FrameWriter.WriteHeaders(w, streamId, Encode(headers), endStream: false, MaxFrameSize);
        Http2FrameWriter.WriteData(w, streamId, GrpcMessage(0, message), endStream: !session);
        return w.WrittenSpan.ToArray();
    }

    /// <summary>A plausible SolveRequest: ref, session, an image exporter, sometimes cache options.</summary>
    public static byte[] ValidSolve(Random r)
    {
        var solve = new ProtoWriter().String(1, RandomRef(r));
        if (r.Next(2) == 0)
        {
            solve.String(5, RandomRef(r));
        }

        if (r.Next(2) == 0)
        {
            solve.Message(13, ProtoWriter.Entry("image", ("name", $"example.test/fuzz/p{r.Next(50)}:latest")));
        }
        else if (r.Next(2) == 0)
        {
            solve.String(3, "image").MapEntry(4, "name", $"example.test/fuzz/p{r.Next(50)}");
        }

        if (r.Next(3) == 0)
        {
            solve.Message(8, new ProtoWriter().Message(4, ProtoWriter.Entry("registry", ("ref", "example.test/cache"))));
        }

        return solve.ToArray();
    }

    public static byte[] GrpcMessage(byte flags, ReadOnlySpan<byte> message, uint? declared = null)
    {
        var framed = new byte[5 + message.Length];
        framed[0] = flags;
        BinaryPrimitives.WriteUInt32BigEndian(framed.AsSpan(1), declared ?? (uint)message.Length);
        message.CopyTo(framed.AsSpan(5));
        return framed;
    }

    private static ArrayBufferWriter<byte> Start(Random r, string path, out int streamId)
    {
        var w = new ArrayBufferWriter<byte>();
        w.Write(Http2FrameWriter.ClientPreface);
        WriteSettings(w, r);
        streamId = 1 + (2 * r.Next(4));
        var headers = Request(r, path);
        if (r.Next(4) == 0)
        {
            headers.Add(new("grpc-encoding", Pick(r, "gzip", "identity", "deflate", "zstd")));
        }

        Http2FrameWriter.WriteHeaders(w, streamId, Encode(headers), endStream: false, MaxFrameSize, padLength: r.Next(3) == 0 ? r.Next(1, 20) : 0, withPriority: r.Next(4) == 0);
        return w;
    }

    /// <summary>Writes a request body in one or several DATA frames; ends it, resets it, or leaves it open.</summary>
    private static void WriteBody(ArrayBufferWriter<byte> w, Random r, int streamId, ReadOnlySpan<byte> body)
    {
        var ending = r.Next(4); // 0,1: END_STREAM; 2: RST_STREAM; 3: left open
        while (true)
        {
            var chunk = body.Length == 0 ? 0 : Math.Min(body.Length, r.Next(2) == 0 ? body.Length : r.Next(1, body.Length + 1));
            var last = chunk == body.Length;
            Http2FrameWriter.WriteData(w, streamId, body[..chunk], endStream: last && ending < 2, padLength: r.Next(5) == 0 ? r.Next(1, 30) : 0);
            body = body[chunk..];
            if (last)
            {
                break;
            }
        }

        if (ending == 2)
        {
            Http2FrameWriter.WriteRstStream(w, streamId, Pick(r, Http2ErrorCode.Cancel, Http2ErrorCode.NoError, Http2ErrorCode.InternalError));
        }
    }

    private static ProtoWriter RandomProto(Random r, int depth)
    {
        var proto = new ProtoWriter();
        for (var i = r.Next(0, 8); i > 0; i--)
        {
            var field = r.Next(4) == 0 ? r.Next(1, 536_870_912) : r.Next(1, 16);
            switch (r.Next(depth < 3 ? 6 : 5))
            {
                case 0:
                    proto.Varint(field, (ulong)r.NextInt64());
                    break;
                case 1:
                    proto.Fixed32(field, (uint)r.Next());
                    break;
                case 2:
                    proto.Fixed64(field, (ulong)r.NextInt64());
                    break;
                case 3:
                    proto.String(field, r.Next(2) == 0 ? RandomRef(r) : new string((char)r.Next(32, 0x2FFF), r.Next(0, 40)));
                    break;
                case 4:
                    proto.Bytes(field, RandomBytes(r, r.Next(0, 64)));
                    break;
                default:
                    proto.Message(field, RandomProto(r, depth + 1));
                    break;
            }
        }

        return proto;
    }

    private static List<KeyValuePair<string, string>> Request(Random r, string path)
    {
        var headers = new List<KeyValuePair<string, string>>
        {
            new(":method", "POST"),
            new(":scheme", "http"),
            new(":authority", r.Next(4) == 0 ? $"p{r.Next(20)}.builds.example.test" : "127.0.0.1"),
            new(":path", path),
            new("content-type", "application/grpc"),
            new("te", "trailers"),
        };
        if (r.Next(10) == 0)
        {
            // Malformed header lists: a missing or repeated pseudo-header, an uppercase or connection-specific name.
            switch (r.Next(4))
            {
                case 0:
                    headers.RemoveAt(r.Next(4));
                    break;
                case 1:
                    headers.Add(new(":path", Paths[r.Next(Paths.Length)]));
                    break;
                case 2:
                    headers.Add(new("X-Upper", "v"));
                    break;
                default:
                    headers.Add(new("connection", "close"));
                    break;
            }
        }

        return headers;
    }

    private static byte[] Encode(List<KeyValuePair<string, string>> headers)
    {
        var block = new ArrayBufferWriter<byte>();
        new HpackEncoder(useHuffman: false).Encode(headers, block);
        return block.WrittenSpan.ToArray();
    }

    private static void WriteSettings(ArrayBufferWriter<byte> w, Random r)
    {
        if (r.Next(2) == 0)
        {
            Http2FrameWriter.WriteSettings(w, []);
            return;
        }

        Http2FrameWriter.WriteSettings(w, [
            (Http2SettingId.InitialWindowSize, (uint)r.Next(0, int.MaxValue)),
            (Http2SettingId.MaxFrameSize, (uint)r.Next(MaxFrameSize, 0xFFFFFF)),
            (Http2SettingId.HeaderTableSize, (uint)r.Next(0, 1 << 16)),
            (Http2SettingId.MaxConcurrentStreams, (uint)r.Next(0, 1000)),
        ]);
    }

    private static void RawFrame(ArrayBufferWriter<byte> w, int declaredLength, byte type, byte flags, int streamId, ReadOnlySpan<byte> payload)
    {
        var header = w.GetSpan(9);
        header[0] = (byte)(declaredLength >> 16);
        header[1] = (byte)(declaredLength >> 8);
        header[2] = (byte)declaredLength;
        header[3] = type;
        header[4] = flags;
        BinaryPrimitives.WriteUInt32BigEndian(header[5..], (uint)streamId);
        w.Advance(9);
        w.Write(payload);
    }

    /// <summary>Splits the byte stream at random points, so the gateway sees frames across reads.</summary>
    private static IReadOnlyList<byte[]> Split(Random r, IReadOnlyList<byte[]> writes)
    {
        if (r.Next(3) != 0)
        {
            return writes;
        }

        var all = writes.SelectMany(b => b).ToArray();
        var parts = new List<byte[]>();
        var at = 0;
        while (at < all.Length && parts.Count < 8)
        {
            var length = parts.Count == 7 ? all.Length - at : r.Next(1, all.Length - at + 1);
            parts.Add(all[at..(at + length)]);
            at += length;
        }

        return parts;
    }

    private static FuzzClose PickClose(Random r) => (FuzzClose)r.Next(3);

    private static Http2FrameType RandomType(Random r) => (Http2FrameType)r.Next(0, 12);

    private static int RandomStream(Random r) => r.Next(4) switch { 0 => 0, 1 => 1, 2 => int.MaxValue, _ => r.Next(0, 1000) };

    private static string RandomRef(Random r) => "fuzz" + r.NextInt64().ToString("x", System.Globalization.CultureInfo.InvariantCulture);

    private static byte[] RandomBytes(Random r, int count)
    {
        var bytes = new byte[count];
        r.NextBytes(bytes);
        return bytes;
    }

    private static string Short(string path) => path[(path.LastIndexOf('/') + 1)..];

    private static T Pick<T>(Random r, params T[] choices) => choices[r.Next(choices.Length)];
}
