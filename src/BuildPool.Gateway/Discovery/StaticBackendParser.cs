using System.Globalization;
using System.Net;
using BuildPool.Gateway.Routing;

namespace BuildPool.Gateway.Discovery;

/// <summary>
/// Parses <c>--backend</c> values: <c>name=tcp://host:port</c> (cleartext HTTP/2) or
/// <c>name=tls://host:port</c> / <c>name=https://host:port</c> (TLS with the <c>--upstream-*</c>
/// settings), optionally followed by
/// <c>,state=draining</c>, <c>,sharing=locked</c>, <c>,max-concurrent-builds=N</c> and
/// <c>,keys=a;b</c>. Errors are one line naming the value and what is wrong, because they end
/// up in a pod's crash log.
/// </summary>
public static class StaticBackendParser
{
    public static StaticBackend Parse(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var parts = value.Split(',', StringSplitOptions.TrimEntries);
        var head = parts[0];
        var eq = head.IndexOf('=', StringComparison.Ordinal);
        if (eq <= 0)
        {
            throw Error(value, "expected name=tcp://host:port");
        }

        var name = head[..eq];
        if (!IsDnsLabelish(name))
        {
            throw Error(value, $"name '{name}' may contain only letters, digits, '-', '_' and '.'");
        }

        var address = head[(eq + 1)..];
        var backend = new StaticBackend(name, ParseAddress(value, address)) { Tls = UpstreamScheme.IsTls(address) };
        foreach (var option in parts.Skip(1))
        {
            var oeq = option.IndexOf('=', StringComparison.Ordinal);
            if (oeq <= 0)
            {
                throw Error(value, $"option '{option}' is not key=value");
            }

            var key = option[..oeq].ToLowerInvariant();
            var text = option[(oeq + 1)..];
            backend = key switch
            {
                "state" => backend with { State = ParseState(value, text) },
                "sharing" => text.ToLowerInvariant() switch
                {
                    "locked" => backend with { MaxConcurrentBuilds = 1 },
                    "shared" or "private" => backend,
                    _ => throw Error(value, $"sharing '{text}' is not shared, locked or private"),
                },
                "max-concurrent-builds" => int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 1
                    ? backend with { MaxConcurrentBuilds = n }
                    : throw Error(value, $"max-concurrent-builds '{text}' is not a positive integer"),
                "keys" => backend with { Keys = [.. text.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)] },
                _ => throw Error(value, $"unknown option '{key}' (known: state, sharing, max-concurrent-builds, keys)"),
            };
        }

        return backend;
    }

    private static DnsEndPoint ParseAddress(string value, string address)
    {
        if (UpstreamScheme.Strip(address) is not { } rest)
        {
            throw Error(value, $"address '{address}' must start with tcp:// (h2c), tls:// or https:// (TLS)");
        }

        var hostPort = rest.TrimEnd('/');
        var colon = hostPort.LastIndexOf(':');
        var bracketEnd = hostPort.LastIndexOf(']');
        if (colon < 0 || colon < bracketEnd)
        {
            throw Error(value, $"address '{address}' has no port (expected tcp://host:port)");
        }

        var host = hostPort[..colon].Trim('[', ']');
        if (host.Length == 0)
        {
            throw Error(value, $"address '{address}' has no host");
        }

        if (!int.TryParse(hostPort[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            throw Error(value, $"port '{hostPort[(colon + 1)..]}' is not a number from 1 to 65535");
        }

        return new DnsEndPoint(host, port);
    }

    private static BackendState ParseState(string value, string text) => text.ToLowerInvariant() switch
    {
        "ready" => BackendState.Ready,
        "draining" => BackendState.Draining,
        "unavailable" => BackendState.Unavailable,
        _ => throw Error(value, $"state '{text}' is not ready, draining or unavailable"),
    };

    private static bool IsDnsLabelish(string name) =>
        name.Length > 0 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    private static FormatException Error(string value, string problem) => new($"--backend '{value}': {problem}");
}
