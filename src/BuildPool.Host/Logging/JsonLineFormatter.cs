using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace BuildPool.Host.Logging;

/// <summary>
/// One JSON object per log entry, on one line: <c>ts</c> (ISO 8601, UTC), <c>level</c>,
/// <c>logger</c>, <c>msg</c>, then the fields of the active scopes (a reconcile's <c>kind</c>,
/// <c>namespace</c>, <c>name</c>, <c>generation</c>) and of the entry itself (a build's
/// <c>buildId</c>, <c>key</c>, <c>builder</c>, <c>tenant</c>), and <c>error</c> with an
/// exception. Field names are the message template's in camelCase; the first writer of a name wins.
/// </summary>
public sealed class JsonLineFormatter : ConsoleFormatter
{
    public const string FormatterName = "buildpool-json";

    private const string OriginalFormat = "{OriginalFormat}";

    // The template names that mean the same thing across messages get one field name, so a log
    // pipeline can filter every line of one build or builder.
    private static readonly Dictionary<string, string> Renamed = new(StringComparer.Ordinal)
    {
        ["Ref"] = "buildId",
        ["BuildId"] = "buildId",
        ["Backend"] = "builder",
    };

    private readonly TimeProvider _time;

    public JsonLineFormatter()
        : this(TimeProvider.System)
    {
    }

    internal JsonLineFormatter(TimeProvider time)
        : base(FormatterName) => _time = time;

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        ArgumentNullException.ThrowIfNull(textWriter);
        var message = logEntry.Formatter?.Invoke(logEntry.State, logEntry.Exception);
        if (message is null && logEntry.Exception is null)
        {
            return;
        }

        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("ts", _time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
            json.WriteString("level", Level(logEntry.LogLevel));
            json.WriteString("logger", logEntry.Category);
            json.WriteString("msg", message ?? string.Empty);
            var written = new HashSet<string>(StringComparer.Ordinal) { "ts", "level", "logger", "msg", "error" };
            var context = (Json: json, Written: written);
            scopeProvider?.ForEachScope(static (scope, c) => WriteFields(scope, c.Json, c.Written), context);
            WriteFields(logEntry.State, json, written);
            if (logEntry.Exception is { } exception)
            {
                json.WriteString("error", exception.ToString());
            }

            json.WriteEndObject();
        }

        textWriter.Write(Encoding.UTF8.GetString(buffer.WrittenSpan));
        textWriter.Write('\n');
    }

    private static void WriteFields(object? state, Utf8JsonWriter json, HashSet<string> written)
    {
        if (state is not IEnumerable<KeyValuePair<string, object?>> fields)
        {
            return;
        }

        foreach (var (key, value) in fields)
        {
            if (key == OriginalFormat || key.Length == 0)
            {
                continue;
            }

            var name = Renamed.TryGetValue(key, out var renamed) ? renamed : char.ToLowerInvariant(key[0]) + key[1..];
            if (!written.Add(name))
            {
                continue;
            }

            json.WritePropertyName(name);
            switch (value)
            {
                case null:
                    json.WriteNullValue();
                    break;
                case bool b:
                    json.WriteBooleanValue(b);
                    break;
                case int or long or short or byte or uint:
                    json.WriteNumberValue(Convert.ToInt64(value, CultureInfo.InvariantCulture));
                    break;
                case double d when double.IsFinite(d):
                    json.WriteNumberValue(d);
                    break;
                case float f when float.IsFinite(f):
                    json.WriteNumberValue(f);
                    break;
                case decimal m:
                    json.WriteNumberValue(m);
                    break;
                case DateTime t:
                    json.WriteStringValue(t.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture));
                    break;
                case DateTimeOffset t:
                    json.WriteStringValue(t.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture));
                    break;
                default:
                    json.WriteStringValue(Convert.ToString(value, CultureInfo.InvariantCulture));
                    break;
            }
        }
    }

    private static string Level(LogLevel level) => level switch
    {
        LogLevel.Trace => "trace",
        LogLevel.Debug => "debug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        LogLevel.Error => "error",
        LogLevel.Critical => "fatal",
        _ => "none",
    };
}
