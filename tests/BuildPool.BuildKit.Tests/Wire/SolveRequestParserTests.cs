using System.Text;
using BuildPool.BuildKit.Wire;
using BuildPool.TestDoubles;
using CsCheck;

namespace BuildPool.BuildKit.Tests.Wire;

public sealed class SolveRequestParserTests
{
    private static SolveRequestFields Parse(ProtoWriter message)
    {
        Assert.True(SolveRequestParser.TryParse(message.ToArray(), out var fields));
        return fields;
    }

    [Fact]
    public void Ref_and_session_are_read_from_fields_1_and_5()
    {
        var fields = Parse(new ProtoWriter().String(1, "ref-1").String(5, "sess-1"));

        Assert.Equal(new SolveRequestFields("ref-1", "sess-1", null, null), fields);
    }

    [Fact]
    public void Newer_buildkit_exporter_entries_give_the_image_repository_without_tag_and_digest()
    {
        var fields = Parse(new ProtoWriter()
            .String(1, "r")
            .Message(13, ProtoWriter.Entry("local", ("dest", "/out")))
            .Message(13, ProtoWriter.Entry("image", ("push", "true"), ("name", "registry:5000/team/app:1.2@sha256:0123abcd"))));

        Assert.Equal("registry:5000/team/app", fields.ImageName);
    }

    [Fact]
    public void Older_buildkit_exporter_in_fields_3_and_4_gives_the_image_repository()
    {
        var fields = Parse(new ProtoWriter()
            .MapEntry(4, "push", "true")
            .MapEntry(4, "name", "docker.io/team/app:latest")
            .String(3, "image"));

        Assert.Equal("docker.io/team/app", fields.ImageName);
    }

    [Theory]
    [InlineData("registry", "ghcr.io/org/svc:v1", "ghcr.io/org/svc")]
    [InlineData("docker", "app:dev", "app")]
    [InlineData("oci", "example.test/x@sha256:ff", "example.test/x")]
    [InlineData("image", " ,team/app:1, team/other:2", "team/app")]
    [InlineData("image", "localhost:5000/app", "localhost:5000/app")]
    [InlineData("local", "team/app:1", null)]
    [InlineData("tar", "team/app:1", null)]
    public void Only_image_carrying_exporters_name_a_project(string type, string name, string? expected)
    {
        var fields = Parse(new ProtoWriter().Message(13, ProtoWriter.Entry(type, ("name", name))));

        Assert.Equal(expected, fields.ImageName);
    }

    [Fact]
    public void A_legacy_exporter_that_is_not_an_image_exporter_yields_no_image_name()
    {
        var fields = Parse(new ProtoWriter().String(3, "local").MapEntry(4, "name", "team/app"));

        Assert.Null(fields.ImageName);
    }

    [Fact]
    public void Cache_export_ref_wins_over_import_ref_and_loses_its_tag()
    {
        var cache = new ProtoWriter()
            .Message(5, ProtoWriter.Entry("registry", ("ref", "registry.test/cache/import:main")))
            .Message(4, ProtoWriter.Entry("local", ("dest", "/tmp/cache")))
            .Message(4, ProtoWriter.Entry("registry", ("mode", "max"), ("ref", "registry.test/cache/app:buildcache")));

        var fields = Parse(new ProtoWriter().Message(8, cache));

        Assert.Equal("registry.test/cache/app", fields.CacheRef);
    }

    [Fact]
    public void Cache_import_ref_is_used_when_nothing_is_exported()
    {
        var cache = new ProtoWriter().Message(5, ProtoWriter.Entry("registry", ("ref", "registry.test:5000/cache/app:pr-7")));

        Assert.Equal("registry.test:5000/cache/app", Parse(new ProtoWriter().Message(8, cache)).CacheRef);
    }

    [Fact]
    public void Unknown_fields_of_every_wire_type_are_skipped()
    {
        var fields = Parse(new ProtoWriter()
            .Varint(2, 1234567890123)
            .Fixed64(6, ulong.MaxValue)
            .Fixed32(7, 42)
            .Group(9, new ProtoWriter().String(1, "inside").Group(2, new ProtoWriter().Varint(1, 1)))
            .Message(12, new ProtoWriter().String(1, "frontend attrs"))
            .String(1, "ref-x")
            .Varint(1, 5) // a wrong wire type for a known field is ignored, not fatal
            .String(5, "s"));

        Assert.Equal(new SolveRequestFields("ref-x", "s", null, null), fields);
    }

    [Fact]
    public void An_empty_message_parses_with_no_fields()
    {
        Assert.True(SolveRequestParser.TryParse([], out var fields));
        Assert.Equal(default, fields);
    }

    [Theory]
    [InlineData(new byte[] { 0x0A, 0x05, (byte)'a' })] // length beyond the end
    [InlineData(new byte[] { 0x0A })] // tag without a value
    [InlineData(new byte[] { 0x08, 0x80, 0x80 })] // unterminated varint
    [InlineData(new byte[] { 0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01 })] // 11-byte varint
    [InlineData(new byte[] { 0x00, 0x01 })] // field number 0
    [InlineData(new byte[] { 0x0E, 0x01 })] // wire type 6
    [InlineData(new byte[] { 0x0C })] // end group without a start
    [InlineData(new byte[] { 0x0B, 0x0A, 0x00 })] // group without an end
    [InlineData(new byte[] { 0x0D, 0x01, 0x02 })] // truncated fixed32
    [InlineData(new byte[] { 0x42, 0x02, 0x22, 0x05 })] // cache entry whose length overruns its parent
    public void Malformed_messages_yield_no_fields(byte[] message)
    {
        Assert.False(SolveRequestParser.TryParse(message, out var fields));
        Assert.Equal(default, fields);
    }

    [Fact]
    public void Deeply_nested_groups_are_rejected_without_overflowing_the_stack()
    {
        var bytes = new List<byte>();
        for (var i = 0; i < 100_000; i++)
        {
            bytes.Add(0x0B); // start group, field 1
        }

        Assert.False(SolveRequestParser.TryParse(bytes.ToArray(), out _));
    }

    [Fact]
    public void Random_bytes_never_throw()
    {
        // A statement lambda: CsCheck would read a returned false as a failed property.
        Gen.Byte.Array[0, 256].Sample(bytes => { SolveRequestParser.TryParse(bytes, out _); }, iter: 20_000);
    }

    [Fact]
    public void Mutated_valid_requests_never_throw()
    {
        var valid = new ProtoWriter()
            .String(1, "ref")
            .String(5, "session")
            .Message(8, new ProtoWriter().Message(4, ProtoWriter.Entry("registry", ("ref", "r/c:t"))))
            .Message(13, ProtoWriter.Entry("image", ("name", "a/b:c")))
            .ToArray();

        Gen.Select(Gen.Int[0, valid.Length - 1], Gen.Byte, Gen.Int[0, valid.Length]).Sample((at, value, cut) =>
        {
            var mutated = valid.ToArray();
            mutated[at] = value;
            SolveRequestParser.TryParse(mutated.AsSpan(0, cut), out _);
        }, iter: 20_000);
    }

    [Theory]
    [InlineData("registry:5000/team/app:1.2@sha256:abc", "registry:5000/team/app")]
    [InlineData("registry:5000/team/app", "registry:5000/team/app")]
    [InlineData("app:latest", "app")]
    [InlineData("app", "app")]
    [InlineData("team/app@sha256:abc", "team/app")]
    public void Repository_drops_tag_and_digest_but_keeps_a_registry_port(string reference, string expected)
    {
        var repository = SolveRequestParser.Repository(Encoding.UTF8.GetBytes(reference));

        Assert.Equal(expected, Encoding.UTF8.GetString(repository));
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("", "")]
    [InlineData("build,test", "build,test")]
    public void Reads_whether_the_client_asked_for_no_cache_and_for_which_stages(string? attribute, string? expected)
    {
        var message = new ProtoWriter().String(1, "ref-1").MapEntry(7, "build-arg:V", "2");
        if (attribute is not null)
        {
            message.MapEntry(7, "no-cache", attribute);
        }

        Assert.True(SolveRequestParser.TryParse(message.ToArray(), out var fields));
        Assert.Equal("ref-1", fields.Ref);
        Assert.Equal(expected, fields.NoCache);
    }
}
