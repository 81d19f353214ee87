using BuildPool.Gateway.Discovery;
using BuildPool.Gateway.Routing;

namespace BuildPool.Gateway.Tests.Discovery;

public sealed class StaticBackendParserTests
{
    [Fact]
    public void A_plain_backend_is_a_ready_builder_with_the_default_capacity()
    {
        var backend = StaticBackendParser.Parse("cache-0=tcp://10.0.0.5:1234");

        Assert.Equal(("cache-0", "10.0.0.5", 1234, BackendState.Ready, (int?)null), (backend.Name, backend.EndPoint.Host, backend.EndPoint.Port, backend.State, backend.MaxConcurrentBuilds));
    }

    [Fact]
    public void Options_set_state_sharing_capacity_and_pinned_keys()
    {
        var backend = StaticBackendParser.Parse("rel=tcp://builder.example.test:1234,state=draining,sharing=locked,keys=release;tools");

        Assert.Equal(BackendState.Draining, backend.State);
        Assert.Equal(1, backend.MaxConcurrentBuilds);
        Assert.Equal(["release", "tools"], backend.Keys);
        Assert.Equal(8, StaticBackendParser.Parse("b=tcp://[::1]:1234,max-concurrent-builds=8").MaxConcurrentBuilds);
    }

    [Theory]
    [InlineData("b=tcp://10.0.0.5:1234", false)]
    [InlineData("b=tls://10.0.0.5:1234", true)]
    [InlineData("b=https://10.0.0.5:1234", true)]
    public void Tls_and_https_addresses_are_dialled_with_tls_and_tcp_with_h2c(string value, bool tls)
    {
        var backend = StaticBackendParser.Parse(value);

        Assert.Equal(("10.0.0.5", 1234, tls), (backend.EndPoint.Host, backend.EndPoint.Port, backend.Tls));
    }

    [Theory]
    [InlineData("tcp://h:1", "expected name=tcp://host:port")]
    [InlineData("b=tcp://h", "has no port")]
    [InlineData("b=unix:///run/buildkit.sock", "must start with tcp:// (h2c), tls:// or https:// (TLS)")]
    [InlineData("b=tcp://h:99999", "is not a number from 1 to 65535")]
    [InlineData("b=tcp://h:1,state=sleeping", "state 'sleeping'")]
    [InlineData("b=tcp://h:1,colour=red", "unknown option 'colour'")]
    [InlineData("b c=tcp://h:1", "may contain only")]
    public void Bad_values_fail_with_one_line_naming_the_value_and_the_problem(string value, string problem)
    {
        var error = Assert.Throws<FormatException>(() => StaticBackendParser.Parse(value));

        Assert.StartsWith($"--backend '{value}': ", error.Message);
        Assert.Contains(problem, error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Theory]
    [InlineData("0.0.0.0:1234", "0.0.0.0", 1234)]
    [InlineData("[::]:1234", "::", 1234)]
    [InlineData("localhost:0", "127.0.0.1", 0)]
    [InlineData(":8080", "0.0.0.0", 8080)]
    public void Listen_addresses_parse_to_endpoints(string value, string address, int port)
    {
        var endPoint = ListenAddress.Parse(value);

        Assert.Equal((address, port), (endPoint.Address.ToString(), endPoint.Port));
    }
}
