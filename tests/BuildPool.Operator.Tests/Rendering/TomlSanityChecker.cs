using System.Globalization;
using System.Text;

namespace BuildPool.Operator.Tests.Rendering;

/// <summary>
/// A small TOML checker for what the buildkitd.toml renderer writes: one-line keys with string,
/// integer, boolean or array values, tables and arrays of tables. It reports unbalanced or badly
/// escaped strings, a table header defined twice (arrays of tables may repeat), and a key set
/// twice in one table. Anything outside that subset (floats, multi-line values) is reported too,
/// so a renderer change that starts writing it shows up here first.
/// </summary>
internal static class TomlSanityChecker
{
    public static IReadOnlyList<string> Check(string toml)
    {
        var problems = new List<string>();
        var tables = new HashSet<string>(StringComparer.Ordinal);
        var arrayTables = new HashSet<string>(StringComparer.Ordinal);
        var keys = new HashSet<string>(StringComparer.Ordinal);
        var lines = toml.Split('\n');
        for (var n = 0; n < lines.Length; n++)
        {
            var line = lines[n].TrimEnd('\r');
            var at = $"line {n + 1}";
            var p = new Cursor(line);
            p.SkipSpaces();
            if (p.AtEnd || p.Peek == '#')
            {
                continue;
            }

            try
            {
                if (p.Peek == '[')
                {
                    var array = p.Rest.StartsWith("[[", StringComparison.Ordinal);
                    p.Advance(array ? 2 : 1);
                    var path = ParseKeyPath(ref p);
                    p.Expect(array ? "]]" : "]");
                    p.EndOfLine();
                    var name = string.Join('\u0001', path);
                    if (array)
                    {
                        if (tables.Contains(name))
                        {
                            problems.Add($"{at}: [[{string.Join('.', path)}]] was already defined as a table");
                        }

                        arrayTables.Add(name);
                    }
                    else if (!tables.Add(name) || arrayTables.Contains(name))
                    {
                        problems.Add($"{at}: table [{string.Join('.', path)}] is defined twice");
                    }

                    keys = [];
                    continue;
                }

                var key = string.Join('\u0001', ParseKeyPath(ref p));
                p.SkipSpaces();
                p.Expect("=");
                p.SkipSpaces();
                ParseValue(ref p);
                p.EndOfLine();
                if (!keys.Add(key))
                {
                    problems.Add($"{at}: key {key.Replace('\u0001', '.')} is set twice in one table");
                }
            }
            catch (FormatException e)
            {
                problems.Add($"{at}: {e.Message}: {line}");
            }
        }

        return problems;
    }

    private static List<string> ParseKeyPath(ref Cursor p)
    {
        var path = new List<string>();
        while (true)
        {
            p.SkipSpaces();
            path.Add(p.AtEnd ? throw new FormatException("missing key") : p.Peek == '"' ? ParseString(ref p) : ParseBareKey(ref p));
            p.SkipSpaces();
            if (p.AtEnd || p.Peek != '.')
            {
                return path;
            }

            p.Advance(1);
        }
    }

    private static string ParseBareKey(ref Cursor p)
    {
        var start = p.Position;
        while (!p.AtEnd && (char.IsAsciiLetterOrDigit(p.Peek) || p.Peek is '_' or '-'))
        {
            p.Advance(1);
        }

        return p.Position > start ? p.Text[start..p.Position] : throw new FormatException("bad key");
    }

    private static void ParseValue(ref Cursor p)
    {
        if (p.AtEnd)
        {
            throw new FormatException("missing value");
        }

        switch (p.Peek)
        {
            case '"':
                ParseString(ref p);
                return;
            case '[':
                p.Advance(1);
                p.SkipSpaces();
                while (!p.AtEnd && p.Peek != ']')
                {
                    ParseValue(ref p);
                    p.SkipSpaces();
                    if (!p.AtEnd && p.Peek == ',')
                    {
                        p.Advance(1);
                        p.SkipSpaces();
                    }
                    else
                    {
                        break;
                    }
                }

                p.Expect("]");
                return;
        }

        var start = p.Position;
        while (!p.AtEnd && p.Peek is not (' ' or ',' or ']' or '#'))
        {
            p.Advance(1);
        }

        var word = p.Text[start..p.Position];
        var integer = word.Length > 0 && word.TrimStart('-') is var digits && digits.Length > 0
            && digits.All(char.IsAsciiDigit) && (digits == "0" || digits[0] != '0');
        if (!integer && word is not ("true" or "false"))
        {
            throw new FormatException($"unexpected value '{word}'");
        }
    }

    private static string ParseString(ref Cursor p)
    {
        p.Expect("\"");
        var value = new StringBuilder();
        while (true)
        {
            if (p.AtEnd)
            {
                throw new FormatException("unterminated string");
            }

            var c = p.Peek;
            p.Advance(1);
            if (c == '"')
            {
                return value.ToString();
            }

            if (char.IsControl(c) && c != '\t')
            {
                throw new FormatException("unescaped control character in a string");
            }

            if (c != '\\')
            {
                value.Append(c);
                continue;
            }

            if (p.AtEnd)
            {
                throw new FormatException("unterminated escape");
            }

            var e = p.Peek;
            p.Advance(1);
            switch (e)
            {
                case '"' or '\\': value.Append(e); break;
                case 'b': value.Append('\b'); break;
                case 't': value.Append('\t'); break;
                case 'n': value.Append('\n'); break;
                case 'f': value.Append('\f'); break;
                case 'r': value.Append('\r'); break;
                case 'u' or 'U':
                    var length = e == 'u' ? 4 : 8;
                    if (p.Rest.Length < length || !int.TryParse(p.Rest[..length], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code))
                    {
                        throw new FormatException("bad unicode escape");
                    }

                    value.Append(char.ConvertFromUtf32(code));
                    p.Advance(length);
                    break;
                default:
                    throw new FormatException($"invalid escape \\{e}");
            }
        }
    }

    private ref struct Cursor(string text)
    {
        public string Text { get; } = text;

        public int Position { get; private set; }

        public readonly bool AtEnd => Position >= Text.Length;

        public readonly char Peek => Text[Position];

        public readonly string Rest => Text[Position..];

        public void Advance(int count) => Position += count;

        public void SkipSpaces()
        {
            while (!AtEnd && Peek is ' ' or '\t')
            {
                Position++;
            }
        }

        public void Expect(string token)
        {
            if (!Rest.StartsWith(token, StringComparison.Ordinal))
            {
                throw new FormatException($"expected '{token}' at column {Position + 1}");
            }

            Position += token.Length;
        }

        // After a value or header only spaces and a comment may follow.
        public void EndOfLine()
        {
            SkipSpaces();
            if (!AtEnd && Peek != '#')
            {
                throw new FormatException($"unexpected text at column {Position + 1}");
            }
        }
    }
}
