using System.Globalization;
using System.Text;

namespace BuildPool.Operator.Rendering;

/// <summary>
/// Just enough TOML to write <c>buildkitd.toml</c>: tables, arrays of tables, and keys whose
/// values are strings, integers, booleans or string arrays. LF line endings and invariant
/// number formatting, so the same input always gives the same bytes (the ConfigMap hash drives
/// builder restarts).
/// </summary>
internal sealed class TomlWriter
{
    private readonly StringBuilder _text = new();
    private string _keyIndent = "";

    public void Comment(string comment, int indent = 0) =>
        _text.Append(' ', indent).Append("# ").Append(OneLine(comment)).Append('\n');

    public void BlankLine() => _text.Append('\n');

    /// <summary>
    /// A <c>[a.b]</c> header; its keys are indented one level deeper. Segments are written as
    /// given: pass user text through <see cref="Quote"/>.
    /// </summary>
    public void Table(int indent, params string[] path) => Header("[", "]", indent, path);

    /// <summary>A <c>[[a.b]]</c> header: one more element of an array of tables.</summary>
    public void ArrayTable(int indent, params string[] path) => Header("[[", "]]", indent, path);

    public void Key(string key, string value) => Line(key, Quote(value), null);

    public void Key(string key, bool value) => Line(key, value ? "true" : "false", null);

    /// <summary>An integer key, with an optional trailing comment (a human-readable size, say).</summary>
    public void Key(string key, long value, string? comment = null) =>
        Line(key, value.ToString(CultureInfo.InvariantCulture), comment);

    public void Key(string key, IEnumerable<string> values) =>
        Line(key, "[" + string.Join(", ", values.Select(Quote)) + "]", null);

    public override string ToString() => _text.ToString();

    /// <summary>A TOML basic string: quotes, backslashes and control characters escaped.</summary>
    public static string Quote(string value)
    {
        var sb = new StringBuilder(value.Length + 2).Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\b': sb.Append("\\b"); break;
                case '\t': sb.Append("\\t"); break;
                case '\n': sb.Append("\\n"); break;
                case '\f': sb.Append("\\f"); break;
                case '\r': sb.Append("\\r"); break;
                case < ' ' or '\u007f':
                    sb.Append("\\u").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
                    break;
                default: sb.Append(c); break;
            }
        }

        return sb.Append('"').ToString();
    }

    /// <summary>A key as written: bare when TOML allows it, quoted otherwise.</summary>
    public static string KeyName(string key) =>
        key.Length > 0 && key.All(c => c is (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_' or '-')
            ? key
            : Quote(key);

    private void Header(string open, string close, int indent, string[] path)
    {
        _text.Append(' ', indent).Append(open).Append(string.Join('.', path)).Append(close).Append('\n');
        _keyIndent = new string(' ', indent + 2);
    }

    private void Line(string key, string value, string? comment)
    {
        _text.Append(_keyIndent).Append(KeyName(key)).Append(" = ").Append(value);
        if (comment is not null)
        {
            _text.Append(" # ").Append(OneLine(comment));
        }

        _text.Append('\n');
    }

    // A comment ends at the line break; anything after one would be read as TOML.
    private static string OneLine(string comment) =>
        string.Create(comment.Length, comment, static (span, c) =>
        {
            for (var i = 0; i < c.Length; i++)
            {
                span[i] = char.IsControl(c[i]) ? ' ' : c[i];
            }
        });
}
