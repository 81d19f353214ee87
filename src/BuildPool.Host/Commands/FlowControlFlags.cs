using System.CommandLine;
using BuildPool.Api.Units;
using BuildPool.Gateway.Server;

namespace BuildPool.Host.Commands;

/// <summary>
/// The <c>buildpool gateway</c> flags that bound what the gateway holds for clients that read
/// slowly or not at all: buffered response bytes per upstream stream, per upstream connection and
/// in total, and the response data rate below which a client connection is cut.
/// </summary>
internal sealed class FlowControlFlags
{
    private const int MaxWindow = int.MaxValue;
    private const int MinWindow = 65_535;

    private static readonly GatewayOptions Defaults = new();

    public Option<string> StreamBuffer { get; } = new("--upstream-stream-buffer")
    {
        Description = "Response bytes one build call's upstream stream may hold for a client that has not read them (a quantity: 1Mi); the builder's stream stops there until the client reads.",
        DefaultValueFactory = _ => Quantity.Format(Defaults.UpstreamStreamBuffer),
    };

    public Option<string> ConnectionBuffer { get; } = new("--upstream-connection-buffer")
    {
        Description = "Response bytes all streams of one builder connection may hold together; at least twice --upstream-stream-buffer, so that unread streams leave room for the others.",
        DefaultValueFactory = _ => Quantity.Format(Defaults.UpstreamConnectionBuffer),
    };

    public Option<string> TotalBuffer { get; } = new("--upstream-buffer-total")
    {
        Description = "Response bytes all builder connections may hold together; size it below the gateway's memory limit (builder connections beyond it get 64 KiB windows).",
        DefaultValueFactory = _ => Quantity.Format(Defaults.UpstreamBufferTotal),
    };

    public Option<string> MinResponseDataRate { get; } = new("--min-response-data-rate")
    {
        Description = "Bytes per second a client must take while responses wait for it, or its connection is closed (silent builds do not count); 0 disables.",
        DefaultValueFactory = _ => Quantity.Format((long)Defaults.MinResponseDataRate!.Value),
    };

    public Option<string> MinResponseDataRateGrace { get; } = new("--min-response-data-rate-grace")
    {
        Description = "How long a client may read below --min-response-data-rate before it is cut (Go duration, over 1s).",
        DefaultValueFactory = _ => GoDuration.Format(Defaults.MinResponseDataRateGrace),
    };

    public IEnumerable<Option> All => [StreamBuffer, ConnectionBuffer, TotalBuffer, MinResponseDataRate, MinResponseDataRateGrace];

    /// <exception cref="FormatException">A value is not a quantity, out of range, or inconsistent with another; the message names the flag.</exception>
    public GatewayOptions ApplyTo(ParseResult parse, GatewayOptions options)
    {
        var stream = Size(parse, StreamBuffer, MinWindow, MaxWindow);
        var connection = Size(parse, ConnectionBuffer, MinWindow, MaxWindow);
        if (connection < 2 * stream)
        {
            throw new FormatException($"--upstream-connection-buffer {Quantity.Format(connection)} must be at least twice --upstream-stream-buffer {Quantity.Format(stream)}: one unread stream would otherwise stop every build on its builder connection");
        }

        var rate = Size(parse, MinResponseDataRate, 0, long.MaxValue);
        var grace = GoDuration.ParsePositive(MinResponseDataRateGrace.Name, parse.GetValue(MinResponseDataRateGrace));
        if (rate > 0 && grace <= TimeSpan.FromSeconds(1))
        {
            // Kestrel checks rates once a second and refuses shorter grace periods.
            throw new FormatException($"{MinResponseDataRateGrace.Name}: \"{parse.GetValue(MinResponseDataRateGrace)}\" must be longer than 1s");
        }

        return options with
        {
            UpstreamStreamBuffer = (int)stream,
            UpstreamConnectionBuffer = (int)connection,
            UpstreamBufferTotal = Size(parse, TotalBuffer, 0, long.MaxValue),
            MinResponseDataRate = rate > 0 ? rate : null,
            MinResponseDataRateGrace = grace,
        };
    }

    private static long Size(ParseResult parse, Option<string> flag, long min, long max)
    {
        var text = parse.GetValue(flag);
        if (!Quantity.TryParse(text, out var bytes, out var reason))
        {
            throw new FormatException($"{flag.Name}: {reason}");
        }

        if (bytes < min || bytes > max)
        {
            throw new FormatException($"{flag.Name}: \"{text}\" must be between {Quantity.Format(min)} and {Quantity.Format(max)} bytes");
        }

        return bytes;
    }
}
