using BuildPool.Gateway.Passthrough;

namespace BuildPool.Gateway.Tests.Passthrough;

/// <summary>The ClientHello/SNI parser on real SslStream hellos, re-cut, truncated, broken and random.</summary>
public sealed class TlsClientHelloParserTests
{
    [Fact]
    public async Task A_real_client_hello_yields_its_server_name_lower_cased()
    {
        var hello = await ClientHelloCapture.CaptureAsync("Proj-A.Builds.Example.Test");

        Assert.True(TlsClientHelloParser.TryParse(hello, out var parsed));

        Assert.Equal("proj-a.builds.example.test", parsed.ServerName);
        Assert.Equal(hello.Length, parsed.Length);
    }

    [Fact]
    public async Task A_client_that_connects_by_address_sends_no_server_name()
    {
        var hello = await ClientHelloCapture.CaptureAsync("127.0.0.1");

        Assert.True(TlsClientHelloParser.TryParse(hello, out var parsed));

        Assert.Null(parsed.ServerName);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(100)]
    public async Task A_hello_split_over_many_records_is_read_whole(int fragment)
    {
        var split = ClientHelloCapture.Refragment(await ClientHelloCapture.CaptureAsync("proj-b.builds.example.test"), fragment);

        Assert.True(TlsClientHelloParser.TryParse(split, out var parsed, maxHelloBytes: 64 * 1024));

        Assert.Equal("proj-b.builds.example.test", parsed.ServerName);
        Assert.Equal(split.Length, parsed.Length);
    }

    [Fact]
    public async Task Every_prefix_of_a_hello_asks_for_more_bytes_instead_of_failing()
    {
        var split = ClientHelloCapture.Refragment(await ClientHelloCapture.CaptureAsync("proj-c.builds.example.test"), 50);

        for (var length = 0; length < split.Length; length++)
        {
            Assert.False(TlsClientHelloParser.TryParse(split.AsSpan(0, length), out _), $"prefix of {length} bytes");
        }

        Assert.True(TlsClientHelloParser.TryParse(split, out _));
    }

    [Fact]
    public async Task Bytes_after_the_hello_are_not_part_of_it()
    {
        var hello = await ClientHelloCapture.CaptureAsync("proj-d.builds.example.test");
        byte[] withMore = [.. hello, 23, 3, 3, 0, 1, 0];

        Assert.True(TlsClientHelloParser.TryParse(withMore, out var parsed));

        Assert.Equal(hello.Length, parsed.Length);
    }

    [Theory]
    [InlineData("PRI * HTTP/2.0")]
    [InlineData("GET / HTTP/1.1")]
    public void Plain_text_protocols_are_refused_from_their_first_byte(string text)
    {
        var bytes = System.Text.Encoding.ASCII.GetBytes(text);

        Assert.Throws<TlsClientHelloException>(() => TlsClientHelloParser.TryParse(bytes.AsSpan(0, 1), out _));
    }

    [Fact]
    public async Task A_hello_larger_than_the_limit_is_refused_before_it_is_complete()
    {
        var hello = await ClientHelloCapture.CaptureAsync("proj-e.builds.example.test");

        var error = Assert.Throws<TlsClientHelloException>(() => TlsClientHelloParser.TryParse(hello.AsSpan(0, 10), out _, maxHelloBytes: 64));

        Assert.Contains("larger than 64", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_record_that_is_not_a_handshake_inside_the_hello_is_refused()
    {
        var split = ClientHelloCapture.Refragment(await ClientHelloCapture.CaptureAsync("proj-f.builds.example.test"), 40);
        split[45] = 23; // the second record's content type: application data

        Assert.Throws<TlsClientHelloException>(() => TlsClientHelloParser.TryParse(split, out _));
    }

    [Fact]
    public async Task A_hello_whose_extension_lengths_disagree_is_refused()
    {
        var hello = await ClientHelloCapture.CaptureAsync("proj-g.builds.example.test");
        // The last byte of the hello belongs to the last extension; cutting the record and the
        // handshake length by one leaves that extension running past its end.
        var cut = hello[..^1];
        var recordLength = ((cut[3] << 8) | cut[4]) - 1;
        cut[3] = (byte)(recordLength >> 8);
        cut[4] = (byte)recordLength;
        var bodyLength = ((cut[6] << 16) | (cut[7] << 8) | cut[8]) - 1;
        cut[6] = (byte)(bodyLength >> 16);
        cut[7] = (byte)(bodyLength >> 8);
        cut[8] = (byte)bodyLength;

        Assert.Throws<TlsClientHelloException>(() => TlsClientHelloParser.TryParse(cut, out _));
    }

    [Fact]
    public async Task Random_broken_and_truncated_input_only_ever_raises_the_parsers_own_error()
    {
        var hellos = new[]
        {
            await ClientHelloCapture.CaptureAsync("proj-h.builds.example.test"),
            ClientHelloCapture.Refragment(await ClientHelloCapture.CaptureAsync("proj-i.builds.example.test"), 9),
            await ClientHelloCapture.CaptureAsync("127.0.0.1"),
        };
        var random = new Random(4_2026);
        var outcomes = new int[3];

        // Synchronous, bounded work: the whole run finishing within the deadline shows no input loops.
        await Task.Run(() =>
        {
            for (var i = 0; i < 30_000; i++)
            {
                var input = Mutate(hellos[i % hellos.Length], random, i % 4);
                try
                {
                    outcomes[TlsClientHelloParser.TryParse(input, out _, maxHelloBytes: 4096) ? 0 : 1]++;
                }
                catch (TlsClientHelloException)
                {
                    outcomes[2]++;
                }
            }
        }).WaitAsync(TimeSpan.FromSeconds(60));

        // Each kind of outcome happened: the input really covered complete, short and broken hellos.
        Assert.All(outcomes, count => Assert.True(count > 0, string.Join(", ", outcomes)));
    }

    private static byte[] Mutate(byte[] hello, Random random, int kind)
    {
        switch (kind)
        {
            case 0:
                // Random bytes, sometimes starting like a handshake record.
                var noise = new byte[random.Next(0, 600)];
                random.NextBytes(noise);
                if (noise.Length > 2 && random.Next(2) == 0)
                {
                    noise[0] = 22;
                    noise[1] = 3;
                }

                return noise;
            case 1:
                // Truncated anywhere.
                return hello[..random.Next(0, hello.Length + 1)];
            case 2:
                // A few bytes flipped anywhere, lengths included.
                var flipped = (byte[])hello.Clone();
                for (var n = random.Next(1, 4); n > 0; n--)
                {
                    flipped[random.Next(flipped.Length)] = (byte)random.Next(256);
                }

                return flipped;
            default:
                // Unchanged or with bytes appended: must parse.
                return random.Next(2) == 0 ? hello : [.. hello, .. new byte[random.Next(1, 50)]];
        }
    }
}
