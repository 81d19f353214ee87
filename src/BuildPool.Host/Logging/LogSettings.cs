using System.CommandLine;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace BuildPool.Host.Logging;

/// <summary>The <c>--log-format</c> and <c>--log-level</c> flags of the operator and the gateway, and the logging they set up.</summary>
public sealed record LogSettings(LogFormat Format, LogLevel Level)
{
    public static readonly LogSettings Default = new(LogFormat.Text, LogLevel.Information);

    private static readonly Dictionary<string, LogLevel> Levels = new(StringComparer.OrdinalIgnoreCase)
    {
        ["trace"] = LogLevel.Trace,
        ["debug"] = LogLevel.Debug,
        ["info"] = LogLevel.Information,
        ["information"] = LogLevel.Information,
        ["warn"] = LogLevel.Warning,
        ["warning"] = LogLevel.Warning,
        ["error"] = LogLevel.Error,
    };

    /// <summary>The two flags, to add to a command.</summary>
    public sealed record Flags(Option<string> Format, Option<string> Level)
    {
        public static Flags Create() => new(
            new Option<string>("--log-format") { Description = "text (one readable line per entry) or json (one JSON object per line: ts, level, logger, msg, and the entry's fields).", DefaultValueFactory = _ => "text" },
            new Option<string>("--log-level") { Description = "Least severe entries written: trace, debug, info, warn or error.", DefaultValueFactory = _ => "info" });

        public void AddTo(Command command)
        {
            ArgumentNullException.ThrowIfNull(command);
            command.Options.Add(Format);
            command.Options.Add(Level);
        }

        /// <summary>The settings the flags give; <see cref="FormatException"/> names the flag and its allowed values.</summary>
        public LogSettings Read(ParseResult parse)
        {
            ArgumentNullException.ThrowIfNull(parse);
            return Parse(parse.GetValue(Format)!, parse.GetValue(Level)!);
        }
    }

    /// <summary>
    /// The flags that give these settings, for a process this one starts (the operator passes its
    /// own to the pools' gateways); none for the defaults, so a default install's gateways keep
    /// the arguments, and the pod template, they always had.
    /// </summary>
    public IReadOnlyList<string> Args() => this == Default
        ? []
        : ["--log-format", Format == LogFormat.Json ? "json" : "text", "--log-level", Level switch
        {
            LogLevel.Trace => "trace",
            LogLevel.Debug => "debug",
            LogLevel.Warning => "warn",
            LogLevel.Error or LogLevel.Critical => "error",
            _ => "info",
        }];

    public static LogSettings Parse(string format, string level)
    {
        ArgumentNullException.ThrowIfNull(format);
        ArgumentNullException.ThrowIfNull(level);
        var parsedFormat = format.ToLowerInvariant() switch
        {
            "text" => LogFormat.Text,
            "json" => LogFormat.Json,
            _ => throw new FormatException($"--log-format {format}: must be text or json"),
        };
        return Levels.TryGetValue(level, out var parsedLevel)
            ? new LogSettings(parsedFormat, parsedLevel)
            : throw new FormatException($"--log-level {level}: must be trace, debug, info, warn or error");
    }

    /// <summary>Console logging in the chosen format at the chosen level; ASP.NET Core's own chatter stays at warnings.</summary>
    public void Apply(ILoggingBuilder logging)
    {
        ArgumentNullException.ThrowIfNull(logging);
        if (Format == LogFormat.Json)
        {
            logging.AddConsole(o => o.FormatterName = JsonLineFormatter.FormatterName);
            logging.AddConsoleFormatter<JsonLineFormatter, ConsoleFormatterOptions>();
        }
        else
        {
            logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss ";
            });
        }

        logging.SetMinimumLevel(Level);
        logging.AddFilter("Microsoft.AspNetCore", Level > LogLevel.Warning ? Level : LogLevel.Warning);
        logging.AddFilter("Microsoft.Hosting", Level > LogLevel.Warning ? Level : LogLevel.Warning);
    }
}
