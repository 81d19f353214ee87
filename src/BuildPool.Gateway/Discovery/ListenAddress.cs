using System.Globalization;
using System.Net;

namespace BuildPool.Gateway.Discovery;

/// <summary>Parses <c>host:port</c> listen addresses (<c>0.0.0.0:1234</c>, <c>[::]:1234</c>, <c>localhost:0</c>).</summary>
public static class ListenAddress
{
    public static IPEndPoint Parse(string value, string flag = "--listen")
    {
        ArgumentNullException.ThrowIfNull(value);
        var colon = value.LastIndexOf(':');
        if (colon < 0 || colon < value.LastIndexOf(']'))
        {
            throw new FormatException($"{flag} '{value}': expected host:port");
        }

        var host = value[..colon].Trim('[', ']');
        if (!int.TryParse(value[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
        {
            throw new FormatException($"{flag} '{value}': port must be a number from 0 to 65535");
        }

        if (host.Length == 0 || host == "*")
        {
            return new IPEndPoint(IPAddress.Any, port);
        }

        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return new IPEndPoint(IPAddress.Loopback, port);
        }

        return IPAddress.TryParse(host, out var ip)
            ? new IPEndPoint(ip, port)
            : throw new FormatException($"{flag} '{value}': host must be an IP address, localhost or empty");
    }
}
