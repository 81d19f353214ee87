using System.Buffers;
using BuildPool.Http2;
using CsCheck;

namespace BuildPool.Gateway.Tests.Http2;

public class HpackTests
{
    private static KeyValuePair<string, string> H(string name, string value) => new(name, value);

    private static List<KeyValuePair<string, string>> Decode(HpackDecoder decoder, string hex)
    {
        var headers = new List<KeyValuePair<string, string>>();
        Assert.True(decoder.Decode(Convert.FromHexString(hex), headers));
        return headers;
    }

    private static List<KeyValuePair<string, string>> TableOf(HpackDecoder decoder) =>
        Enumerable.Range(1, decoder.Table.Count).Select(i => decoder.Table[i]).ToList();

    [Theory]
    [InlineData(10, 5, "0a")]
    [InlineData(1337, 5, "1f9a0a")]
    [InlineData(42, 8, "2a")]
    public void Integers_use_the_prefix_encoding_of_RFC_7541_C_1(int value, int prefixBits, string hex)
    {
        var output = new ArrayBufferWriter<byte>();
        HpackEncoder.WriteInteger(output, 0, prefixBits, value);
        Assert.Equal(hex, Convert.ToHexStringLower(output.WrittenSpan));

        var position = 0;
        Assert.Equal(value, HpackDecoder.ReadInteger(Convert.FromHexString(hex), ref position, prefixBits));
    }

    [Fact]
    public void Literal_and_indexed_representations_decode_as_in_RFC_7541_C_2()
    {
        var decoder = new HpackDecoder();
        Assert.Equal([H("custom-key", "custom-header")], Decode(decoder, "400a637573746f6d2d6b65790d637573746f6d2d686561646572"));
        Assert.Equal(55, decoder.Table.Size);

        decoder = new HpackDecoder();
        Assert.Equal([H(":path", "/sample/path")], Decode(decoder, "040c2f73616d706c652f70617468"));
        Assert.Equal(0, decoder.Table.Count);

        Assert.Equal([H("password", "secret")], Decode(decoder, "100870617373776f726406736563726574"));
        Assert.Equal(0, decoder.Table.Count);

        Assert.Equal([H(":method", "GET")], Decode(decoder, "82"));
    }

    [Theory]
    [InlineData(false, "828684410f7777772e6578616d706c652e636f6d", "828684be58086e6f2d6361636865", "828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565")]
    [InlineData(true, "828684418cf1e3c2e5f23a6ba0ab90f4ff", "828684be5886a8eb10649cbf", "828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf")]
    public void Request_sequences_of_RFC_7541_C_3_and_C_4_decode_with_a_shared_dynamic_table(bool huffman, string first, string second, string third)
    {
        _ = huffman;
        var decoder = new HpackDecoder();

        Assert.Equal([H(":method", "GET"), H(":scheme", "http"), H(":path", "/"), H(":authority", "www.example.com")], Decode(decoder, first));
        Assert.Equal(57, decoder.Table.Size);

        Assert.Equal([H(":method", "GET"), H(":scheme", "http"), H(":path", "/"), H(":authority", "www.example.com"), H("cache-control", "no-cache")], Decode(decoder, second));
        Assert.Equal([H("cache-control", "no-cache"), H(":authority", "www.example.com")], TableOf(decoder));
        Assert.Equal(110, decoder.Table.Size);

        Assert.Equal([H(":method", "GET"), H(":scheme", "https"), H(":path", "/index.html"), H(":authority", "www.example.com"), H("custom-key", "custom-value")], Decode(decoder, third));
        Assert.Equal([H("custom-key", "custom-value"), H("cache-control", "no-cache"), H(":authority", "www.example.com")], TableOf(decoder));
        Assert.Equal(164, decoder.Table.Size);
    }

    [Theory]
    [InlineData(
        "4803333032580770726976617465611d4d6f6e2c203231204f637420323031332032303a31333a323120474d546e1768747470733a2f2f7777772e6578616d706c652e636f6d",
        "4803333037c1c0bf",
        "88c1611d4d6f6e2c203231204f637420323031332032303a31333a323220474d54c05a04677a69707738666f6f3d4153444a4b48514b425a584f5157454f50495541585157454f49553b206d61782d6167653d333630303b2076657273696f6e3d31")]
    [InlineData(
        "488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c78f0b97c8e9ae82ae43d3",
        "4883640effc1c0bf",
        "88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007")]
    public void Response_sequences_of_RFC_7541_C_5_and_C_6_evict_from_a_256_octet_table(string first, string second, string third)
    {
        var decoder = new HpackDecoder(maxTableSize: 256);
        const string Date21 = "Mon, 21 Oct 2013 20:13:21 GMT";
        const string Location = "https://www.example.com";

        Assert.Equal([H(":status", "302"), H("cache-control", "private"), H("date", Date21), H("location", Location)], Decode(decoder, first));
        Assert.Equal(222, decoder.Table.Size);

        Assert.Equal([H(":status", "307"), H("cache-control", "private"), H("date", Date21), H("location", Location)], Decode(decoder, second));
        Assert.Equal([H(":status", "307"), H("location", Location), H("date", Date21), H("cache-control", "private")], TableOf(decoder));
        Assert.Equal(222, decoder.Table.Size);

        const string Cookie = "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1";
        Assert.Equal(
            [H(":status", "200"), H("cache-control", "private"), H("date", "Mon, 21 Oct 2013 20:13:22 GMT"), H("location", Location), H("content-encoding", "gzip"), H("set-cookie", Cookie)],
            Decode(decoder, third));
        Assert.Equal([H("set-cookie", Cookie), H("content-encoding", "gzip"), H("date", "Mon, 21 Oct 2013 20:13:22 GMT")], TableOf(decoder));
        Assert.Equal(215, decoder.Table.Size);
    }

    [Fact]
    public void Huffman_encoding_matches_RFC_7541_C_4_1()
    {
        var value = "www.example.com";
        var buffer = new byte[HpackHuffman.GetEncodedLength(value)];
        HpackHuffman.Encode(value, buffer);
        Assert.Equal("f1e3c2e5f23a6ba0ab90f4ff", Convert.ToHexStringLower(buffer));
    }

    [Theory]
    [InlineData("80", "index 0")]
    [InlineData("be", "dynamic index beyond an empty table")]
    [InlineData("823f9a0a", "size update after a field")]
    [InlineData("3fe21f", "size update above SETTINGS_HEADER_TABLE_SIZE")]
    [InlineData("0084ffffffff0161", "Huffman string containing EOS")]
    [InlineData("0081180161", "Huffman padding that is not all ones")]
    [InlineData("000a6162", "string longer than the block")]
    [InlineData("1f", "truncated integer")]
    [InlineData("1fffffffff0f", "integer overflow")]
    public void Malformed_blocks_are_compression_errors(string hex, string because)
    {
        var decoder = new HpackDecoder();
        var error = Record.Exception(() => decoder.Decode(Convert.FromHexString(hex), []));
        Assert.True(error is HpackException, $"{because}: {error?.GetType().Name ?? "no error"}");
    }

    [Fact]
    public void A_header_list_over_the_limit_is_dropped_but_still_updates_the_dynamic_table()
    {
        var decoder = new HpackDecoder(maxHeaderListSize: 1024);
        var encoderOutput = new ArrayBufferWriter<byte>();
        // A field that passes the limit, then one inserted into the dynamic table.
        var encoder = new HpackEncoder(useHuffman: false);
        encoder.Encode([], new ArrayBufferWriter<byte>()); // spend its one-off table size update elsewhere
        encoder.Encode([H("x-big", new string('x', 2000))], encoderOutput);
        encoderOutput.Write(Convert.FromHexString("400a637573746f6d2d6b65790d637573746f6d2d686561646572"));

        var headers = new List<KeyValuePair<string, string>>();
        Assert.False(decoder.Decode(encoderOutput.WrittenSpan, headers));
        Assert.Empty(headers);
        Assert.Equal(H("custom-key", "custom-header"), decoder.Table[1]);
    }

    [Fact]
    public void Repeated_names_are_encoded_as_separate_fields_in_order()
    {
        var headers = new[]
        {
            H("x-docker-expose-session-grpc-method", "/moby.filesync.v1.FileSync/DiffCopy"),
            H("x-docker-expose-session-grpc-method", "/moby.filesync.v1.FileSync/TarStream"),
            H("x-docker-expose-session-grpc-method", "/moby.filesync.v1.Auth/Credentials"),
        };
        var output = new ArrayBufferWriter<byte>();
        new HpackEncoder().Encode(headers, output);

        var decoded = new List<KeyValuePair<string, string>>();
        Assert.True(new HpackDecoder().Decode(output.WrittenSpan, decoded));
        Assert.Equal(headers, decoded);
    }

    [Fact]
    public void Sensitive_fields_use_the_never_indexed_representation()
    {
        var output = new ArrayBufferWriter<byte>();
        new HpackEncoder(useHuffman: false).Encode([H("authorization", "Bearer x"), H("x-plain", "y")], output);
        var bytes = output.WrittenSpan;
        Assert.Equal(0x20, bytes[0]); // table size update to 0: this encoder never indexes
        Assert.Equal(0x1F, bytes[1]); // never indexed, name index 23 (> 15, so 4-bit prefix saturates)
        Assert.Equal(23 - 15, bytes[2]);
        var plain = bytes[(3 + 1 + "Bearer x".Length)..];
        Assert.Equal(0x00, plain[0]); // without indexing, literal name
    }

    private static readonly Gen<string> Names = Gen.OneOf(
        Gen.OneOf("x-docker-expose-session-grpc-method", "content-type", "grpc-timeout", "cookie", "authorization", "te", ":path", "user-agent"),
        Gen.Char['a', 'z'].Array[1, 24].Select(chars => new string(chars)));

    // Field values are Latin-1 octets: visible ASCII, space, tab and obs-text.
    private static readonly Gen<string> Values = Gen.Char['\x20', '\xff'].Array[0, 64].Select(chars => new string(chars));

    private static readonly Gen<KeyValuePair<string, string>[]> HeaderLists = Gen.Select(Names, Values, H).Array[0, 40];

    [Fact]
    public void Encode_then_decode_preserves_every_field_in_order_including_duplicates()
    {
        Gen.Select(HeaderLists.Array[1, 4], Gen.Bool).Sample((blocks, huffman) =>
        {
            var encoder = new HpackEncoder(huffman);
            var decoder = new HpackDecoder();
            foreach (var headers in blocks)
            {
                var output = new ArrayBufferWriter<byte>();
                encoder.Encode(headers, output);
                var decoded = new List<KeyValuePair<string, string>>();
                Assert.True(decoder.Decode(output.WrittenSpan, decoded));
                Assert.Equal(headers, decoded);
            }
        });
    }

    [Fact]
    public void Huffman_coding_round_trips_every_octet_string()
    {
        Gen.Byte.Array[0, 200].Sample(bytes =>
        {
            var text = string.Create(bytes.Length, bytes, static (span, b) =>
            {
                for (var i = 0; i < b.Length; i++)
                {
                    span[i] = (char)b[i];
                }
            });
            var encoded = new byte[HpackHuffman.GetEncodedLength(text)];
            Assert.Equal(encoded.Length, HpackHuffman.Encode(text, encoded));
            var decoded = new byte[bytes.Length];
            Assert.Equal(bytes.Length, HpackHuffman.Decode(encoded, decoded));
            Assert.Equal(bytes, decoded);
        });
    }
}
