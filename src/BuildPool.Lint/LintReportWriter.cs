using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace BuildPool.Lint;

/// <summary>Writes findings for people (<c>file:line: severity rule: …</c>) or for CI (JSON).</summary>
public static class LintReportWriter
{
    public static void WriteText(TextWriter writer, string file, IReadOnlyList<Finding> findings)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(findings);
        foreach (var finding in findings)
        {
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{file}:{finding.Line}: {Name(finding.Severity)} {finding.Rule}: {finding.Message}"));
            writer.WriteLine($"    cost: {finding.Cost}");
            writer.WriteLine($"    fix:  {finding.Fix}");
        }

        var counts = Enum.GetValues<Severity>().Reverse().Select(s => (s, findings.Count(f => f.Severity == s))).Where(c => c.Item2 > 0).Select(c => string.Create(CultureInfo.InvariantCulture, $"{c.Item2} {Name(c.s)}{(c.Item2 == 1 ? "" : "s")}"));
        writer.WriteLine(findings.Count == 0 ? $"{file}: no findings" : $"{file}: {string.Join(", ", counts)}");
    }

    public static void WriteJson(Stream stream, string file, IReadOnlyList<Finding> findings)
    {
        ArgumentNullException.ThrowIfNull(findings);
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        json.WriteStartObject();
        json.WriteString("file", file);
        json.WriteStartArray("findings");
        foreach (var finding in findings)
        {
            json.WriteStartObject();
            json.WriteString("rule", finding.Rule);
            json.WriteString("severity", Name(finding.Severity));
            json.WriteString("file", file);
            json.WriteNumber("line", finding.Line);
            json.WriteString("message", finding.Message);
            json.WriteString("cost", finding.Cost);
            json.WriteString("fix", finding.Fix);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
        json.Flush();
        stream.WriteByte((byte)'\n');
    }

    public static string Name(Severity severity) => severity switch
    {
        Severity.Error => "error",
        Severity.Warning => "warning",
        _ => "info",
    };
}
