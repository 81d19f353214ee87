using BuildPool.Host.Logging;

namespace BuildPool.Host.Tests;

public sealed class LogSettingsTests
{
    [Theory]
    [InlineData("json", "debug")]
    [InlineData("text", "warn")]
    [InlineData("json", "info")]
    [InlineData("text", "trace")]
    [InlineData("json", "error")]
    public void The_flags_the_operator_passes_its_gateways_parse_back_to_its_own_settings(string format, string level)
    {
        var settings = LogSettings.Parse(format, level);
        var args = settings.Args();

        Assert.Equal(["--log-format", format, "--log-level", level], args);
        Assert.Equal(settings, LogSettings.Parse(args[1], args[3]));
    }

    [Fact]
    public void The_defaults_pass_no_flags_so_a_default_install_keeps_its_gateway_pod_template() =>
        Assert.Empty(LogSettings.Parse("text", "info").Args());
}
